// Pages that hand the browser on to an outside service (ECPay's checkout, store map and
// label page take a form; LINE Pay's payment page a link) go there at once; the button or
// link stays for a browser without scripts.
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
  form.submit();
});
document.querySelectorAll("a[data-autofollow]").forEach(function (link) {
  window.location.replace(link.href);
});
