// The demo storefront: lists the catalog from the API. No inline script anywhere (CSP).
"use strict";

function formatAmount(amount, currency) {
  const zeroDecimal = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
    "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];
  const value = zeroDecimal.includes(currency) ? amount : amount / 100;
  return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() })
    .format(value);
}

async function loadProducts() {
  const shop = document.getElementById("shop");
  const status = document.getElementById("status");
  const list = document.getElementById("products");
  try {
    const response = await fetch(shop.dataset.productsUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const page = await response.json();
    list.replaceChildren(...page.results.map((product) => {
      // textContent, never innerHTML: product names are data, not markup.
      const item = document.createElement("li");
      const name = document.createElement("strong");
      name.textContent = product.name;
      const price = document.createElement("span");
      price.textContent = ` ${formatAmount(product.unit_amount, product.currency)}`;
      item.append(name, price);
      return item;
    }));
    status.textContent = page.count ? `${page.count} products` : "No products yet.";
  } catch (error) {
    status.textContent = "The catalog could not be loaded. Try again later.";
  }
}

document.addEventListener("DOMContentLoaded", loadProducts);
