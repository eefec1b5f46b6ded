// The shop page: products, the cart, placing an order and paying it (card in the page, or
// Stripe Checkout's hosted page).
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  const { byId, el, show, setStatus, showError, clearError } = Shop.dom;
  const { request, expectShape, expectCart, expectOrder, IdempotentAction, ApiError, SHAPES } = Shop.api;
  const { formatAmount } = Shop.money;
  const { isAllowedCheckoutUrl } = Shop.checkoutUrl;

  let config = null; // { shopUrl, emulatorOrigin }
  let currentOrder = null;
  // The shopper's newest order still waiting for payment (e.g. after coming back from
  // Checkout): offered to pay or cancel, so that "Place order" does not make a second one.
  let pendingOrder = null;
  let started = null; // the PaymentIntent the server started for currentOrder
  let stripeForm = null;
  const placeOrderAction = new IdempotentAction();
  const cancelActions = new Map();
  const paymentActions = new Map();

  function paymentAction(kind, orderId) {
    const name = `${kind}:${orderId}`;
    if (!paymentActions.has(name)) paymentActions.set(name, new IdempotentAction());
    return paymentActions.get(name);
  }

  function orderPageUrl(orderId) {
    return new URL(`${config.shopUrl}orders/${orderId}`, window.location.origin).href;
  }

  // One user action: its control is disabled meanwhile and any failure is shown.
  async function run(control, work) {
    clearError();
    control.disabled = true;
    try {
      await work();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        Shop.account.render();
        pendingOrder = null;
        resetPayment();
        show(byId("cart"), false);
      }
      showError(error && error.message ? error.message : "Something went wrong. Please try again.");
    } finally {
      control.disabled = false;
    }
  }

  // --- Products ---------------------------------------------------------------------------
  async function loadProducts() {
    const page = expectShape(await request("GET", "products/", 200), SHAPES.productPage);
    const products = page.results.map((product) => expectShape(product, SHAPES.product));
    byId("products").replaceChildren(...products.map(renderProduct));
    return page;
  }

  function renderProduct(product) {
    const item = el("li", null, "product");
    item.dataset.productId = String(product.id);
    const name = el("span", product.name, "name");
    const price = el("span", formatAmount(product.unit_amount, product.currency), "price");
    const available = product.available_quantity > 0;
    const button = el("button", available ? "Add to cart" : "Sold out", "add-to-cart");
    button.type = "button";
    button.disabled = !available;
    button.addEventListener("click", () => run(button, () => addToCart(product)));
    item.append(name, price, button);
    return item;
  }

  // --- Cart -------------------------------------------------------------------------------
  async function addToCart(product) {
    if (!Shop.account.isSignedIn()) {
      showError("Sign in or register to fill a cart.");
      return;
    }
    const body = { product_id: product.id, quantity: 1 };
    resetPayment();
    renderCart(expectCart(await request("POST", "cart/lines/", 201, { body })));
    setStatus(`${product.name} is in your cart.`);
  }

  async function loadCart() {
    renderCart(expectCart(await request("GET", "cart/", 200)));
  }

  function renderCart(cart) {
    const rows = cart.lines.map((line) => {
      const row = el("tr", null, "cart-line");
      row.dataset.lineId = String(line.id);
      const quantity = el("input", null, "quantity");
      quantity.type = "number";
      quantity.min = "1";
      quantity.max = "1000";
      quantity.value = String(line.quantity);
      quantity.setAttribute("aria-label", `Quantity of ${line.name}`);
      quantity.addEventListener("change", () => run(quantity, () => changeQuantity(line, quantity.value)));
      const remove = el("button", "Remove", "link remove");
      remove.type = "button";
      remove.addEventListener("click", () => run(remove, () => removeLine(line)));
      const quantityCell = el("td");
      quantityCell.append(quantity);
      const removeCell = el("td");
      removeCell.append(remove);
      row.append(el("td", line.name, "name"), quantityCell,
        el("td", formatAmount(line.line_total, cart.currency), "amount"), removeCell);
      return row;
    });
    byId("cart-lines").replaceChildren(...rows);
    const empty = rows.length === 0;
    show(byId("cart-empty"), empty);
    show(byId("cart-table"), !empty);
    renderOrderButtons();
    byId("cart-subtotal").textContent = empty ? "" : formatAmount(cart.subtotal, cart.currency);
  }

  async function changeQuantity(line, raw) {
    const quantity = Number(raw);
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 1000) {
      await loadCart();
      throw new Error("A quantity is a whole number from 1 to 1000.");
    }
    const body = { quantity };
    resetPayment();
    renderCart(expectCart(await request("PATCH", `cart/lines/${line.id}/`, 200, { body })));
  }

  async function removeLine(line) {
    resetPayment();
    await request("DELETE", `cart/lines/${line.id}/`, 204);
    await loadCart();
  }

  // --- Order and payment ------------------------------------------------------------------
  // One order at a time: while one waits for its payment, "Place order" would make another,
  // so the waiting one is offered instead (pay it, or cancel it and order the cart).
  function renderOrderButtons() {
    const hasLines = byId("cart-lines").children.length > 0;
    const offer = pendingOrder !== null && currentOrder === null;
    show(byId("place-order"), hasLines && currentOrder === null && pendingOrder === null);
    show(byId("pending-order"), offer);
    if (!offer) return;
    const total = formatAmount(pendingOrder.total, pendingOrder.currency);
    byId("pending-order-text").textContent =
      `Order ${pendingOrder.number} (${total}) is waiting for payment.`;
    byId("continue-order").textContent = `Continue paying order ${pendingOrder.number}`;
  }

  function isWaitingForPayment(order) {
    const until = Date.parse(order.reserved_until);
    return order.status === "pending_payment" && !(until <= Date.now());
  }

  // The shopper's order still waiting for payment: the one asked for (`wanted`, an id) when
  // it waits, else the newest (GET orders/, newest first).
  async function loadPendingOrder(wanted) {
    const page = expectShape(await request("GET", "orders/", 200), { results: "array" });
    const waiting = page.results.map(expectOrder).filter(isWaitingForPayment);
    pendingOrder = waiting.find((order) => String(order.id) === wanted) || waiting[0] || null;
    renderOrderButtons();
  }

  async function placeOrder() {
    const order = expectOrder(await placeOrderAction.run((key) =>
      request("POST", "orders/", 201, { body: {}, idempotencyKey: key })));
    pendingOrder = order;
    payOrder(order);
    setStatus(`Order ${order.number} is placed. Choose how to pay.`);
  }

  function payOrder(order) {
    resetPayment();
    currentOrder = order;
    byId("payment-order-number").textContent = order.number;
    byId("payment-total").textContent = formatAmount(order.total, order.currency);
    byId("confirm-payment").textContent = `Pay ${formatAmount(order.total, order.currency)}`;
    renderOrderButtons();
    show(byId("payment"), true);
  }

  async function continueOrder() {
    payOrder(pendingOrder);
    setStatus(`Order ${pendingOrder.number} is waiting for payment. Choose how to pay.`);
  }

  async function cancelPendingOrder() {
    const order = pendingOrder;
    if (!cancelActions.has(order.id)) cancelActions.set(order.id, new IdempotentAction());
    await cancelActions.get(order.id).run((key) =>
      request("POST", `orders/${order.id}/cancel/`, 200, { body: {}, idempotencyKey: key }));
    resetPayment();
    await loadPendingOrder();
    setStatus(`Order ${order.number} is cancelled. Your cart is kept.`);
  }

  // Forgets the order being paid (a cart change makes it stale) and offers again what
  // fits: the order still waiting for payment, or "Place order".
  function resetPayment() {
    currentOrder = null;
    started = null;
    stripeForm = null;
    byId("payment-element").replaceChildren();
    show(byId("card-form"), false);
    show(byId("test-cards"), false);
    show(byId("payment"), false);
    renderOrderButtons();
  }

  async function startCardPayment() {
    const order = currentOrder;
    if (!started) {
      const answer = await paymentAction("payment-intent", order.id).run((key) =>
        request("POST", `orders/${order.id}/payment-intent/`, 201, { body: {}, idempotencyKey: key }));
      if (currentOrder !== order) return; // the cart changed meanwhile: that order is dropped
      const checked = Shop.cardPayment.checkStarted(answer);
      if (checked.amount !== order.total || checked.currency !== order.currency) {
        throw new Error("The payment did not match the order, so it was not started. Please try again.");
      }
      started = checked;
      if (!config.emulatorOrigin) {
        stripeForm = Shop.cardPayment.mountStripeElement(started, byId("payment-element"), orderPageUrl(order.id));
      }
    }
    show(byId("test-cards"), Boolean(config.emulatorOrigin));
    show(byId("card-form"), true);
    setStatus(config.emulatorOrigin ? "Pick a test card and pay." : "Enter your card and pay.");
  }

  async function confirmCard() {
    const order = currentOrder;
    let result;
    try {
      if (config.emulatorOrigin) {
        const choice = document.querySelector('#test-cards input[name="payment_method"]:checked');
        if (!choice) throw new Error("Pick a test card.");
        result = await Shop.cardPayment.confirmWithEmulator(config.emulatorOrigin, started, choice.value,
          orderPageUrl(order.id));
      } else {
        result = await stripeForm.confirm();
      }
    } catch (error) {
      if (!(error instanceof Shop.cardPayment.CardError)) throw error;
      // Stripe's decline message is safe to show. The order stays payable, the cart is kept.
      showError(error.message);
      setStatus("The payment did not go through. Your cart is kept: try another card.");
      await loadCart();
      return;
    }
    if (result.status === "requires_action" && result.redirectUrl) {
      if (!isAllowedCheckoutUrl(result.redirectUrl, config.emulatorOrigin)) {
        throw new Error("The card check page looked wrong, so we did not open it.");
      }
      window.location.assign(result.redirectUrl);
      return;
    }
    if (["succeeded", "processing", "requires_capture"].includes(result.status)) {
      setStatus("Payment sent. Opening your order…");
      // The order page must not take this order's earlier failure (another card) for news.
      Shop.orderPage.notePaymentSent(order.id);
      window.location.assign(orderPageUrl(order.id));
      return;
    }
    throw new Error("The payment was not completed. Please try another card.");
  }

  async function startCheckout() {
    const order = currentOrder;
    const session = expectShape(await paymentAction("checkout-session", order.id).run((key) =>
      request("POST", `orders/${order.id}/checkout-session/`, 201, { body: {}, idempotencyKey: key })),
    SHAPES.checkoutSession);
    if (currentOrder !== order) return;
    if (!isAllowedCheckoutUrl(session.url, config.emulatorOrigin)) {
      throw new Error("The payment page's address was not Stripe's, so we did not open it.");
    }
    setStatus("Opening Stripe Checkout…");
    window.location.assign(session.url);
  }

  // --- Page -------------------------------------------------------------------------------
  async function refresh() {
    const signedIn = Shop.account.isSignedIn();
    pendingOrder = null;
    resetPayment();
    show(byId("cart"), false);
    try {
      const page = await loadProducts();
      setStatus({ 0: "No products yet.", 1: "1 product" }[page.count] || `${page.count} products`);
      if (signedIn) {
        // "Try again" on an order's page comes back here with ?pay=<its id>.
        const pay = new URLSearchParams(window.location.search).get("pay");
        await loadCart();
        await loadPendingOrder(pay);
        show(byId("cart"), true); // once filled: never an empty cart that is not
        if (pendingOrder !== null && pay === String(pendingOrder.id)) await continueOrder();
      }
    } catch (error) {
      setStatus("");
      showError(error && error.message ? error.message : "The shop could not be loaded.");
    }
  }

  async function start(pageConfig) {
    config = pageConfig;
    Shop.account.start(refresh);
    byId("place-order").addEventListener("click", (event) => run(event.currentTarget, placeOrder));
    byId("pay-by-card").addEventListener("click", (event) => run(event.currentTarget, startCardPayment));
    byId("pay-with-checkout").addEventListener("click", (event) => run(event.currentTarget, startCheckout));
    byId("continue-order").addEventListener("click", (event) => run(event.currentTarget, continueOrder));
    byId("cancel-order").addEventListener("click", (event) => run(event.currentTarget, cancelPendingOrder));
    byId("card-form").addEventListener("submit", (event) => {
      event.preventDefault();
      run(byId("confirm-payment"), confirmCard);
    });
    show(byId("store"), true);
    await refresh();
  }

  Shop.storefront = { start };
})(window.Shop);
