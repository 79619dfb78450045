// Pages that hand the browser on to an outside service's form (ECPay's store map, its label
// page) post that form at once; the button stays for a browser without scripts.
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
  form.submit();
});
