// The pay page's checkout: the signed form goes to the payment service at once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("checkout-form");
  if (form) { form.submit(); }
});
