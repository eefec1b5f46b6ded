// Starts the page: the shop, or one order when the server gave an order id. The server's
// settings arrive as data- attributes on #shop (no inline script: CSP).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("shop");
  const data = root.dataset;
  const config = {
    shopUrl: data.shopUrl || "/shop/",
    // Set only with STRIPE_API_BASE (the offline emulator): the page then stands in for Stripe.js.
    emulatorOrigin: data.stripeApiBase || "",
    orderId: /^[0-9]+$/.test(data.orderId || "") ? Number(data.orderId) : null,
  };
  window.Shop.api.configure(data.apiUrl || "/api/v1/");
  if (config.orderId !== null) {
    window.Shop.orderPage.start(config);
  } else {
    window.Shop.storefront.start(config);
  }
});
