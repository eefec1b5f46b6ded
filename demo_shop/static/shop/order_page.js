// One order (`/shop/orders/<id>`, where Stripe Checkout and 3-D Secure send the shopper back):
// its status, polled until the payment's webhook has moved it on from `pending_payment`, or
// its payment failed (a failed 3-D Secure check, a decline): then Stripe's message is shown
// at once with a way to try again.
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  const { byId, el, show, setStatus, showError, clearError } = Shop.dom;
  const { request, expectOrder, expectShape, ApiError } = Shop.api;
  const { formatAmount } = Shop.money;
  const POLL_EVERY_MS = 1000;
  const POLL_FOR_MS = 120000;
  const FAILED = "The payment did not go through. Please try again.";
  const SENT_KEY = "shop.paymentSent"; // an order id: its payment just went through in the page

  function notePaymentSent(orderId) {
    sessionStorage.setItem(SENT_KEY, String(orderId));
  }

  function takePaymentSent(orderId) {
    const sent = sessionStorage.getItem(SENT_KEY) === String(orderId);
    sessionStorage.removeItem(SENT_KEY);
    return sent;
  }

  function sleep(ms) {
    return new Promise((resolve) => { setTimeout(resolve, ms); });
  }

  // What the return URL says happened, while the order still waits for its payment; once
  // the webhook has moved the order on, its status is the truth.
  function note(order) {
    if (order.status === "paid") return "Thank you! Your payment is confirmed.";
    if (order.status !== "pending_payment") return "";
    return noteFromAddress();
  }

  function noteFromAddress() {
    const query = new URLSearchParams(window.location.search);
    if (query.get("checkout") === "cancelled") {
      return "Checkout was cancelled. The order is still waiting for payment.";
    }
    if (query.get("redirect_status") === "failed") {
      return "The card check failed. The order is still waiting for payment.";
    }
    if (query.has("session_id") || query.has("payment_intent")) {
      return "Thank you! We are confirming your payment with Stripe.";
    }
    return "";
  }

  function render(order) {
    byId("order-number").textContent = order.number;
    byId("order-note").textContent = note(order);
    const status = byId("order-status");
    const words = order.status.replace(/_/g, " ");
    status.textContent = words.charAt(0).toUpperCase() + words.slice(1); // "Pending payment"
    status.dataset.status = order.status;
    byId("order-lines").replaceChildren(...order.lines.map((line) => {
      const row = el("tr");
      row.append(el("td", line.name), el("td", `× ${line.quantity}`),
        el("td", formatAmount(line.line_total, order.currency), "amount"));
      return row;
    }));
    byId("order-total").textContent = formatAmount(order.total, order.currency);
    show(byId("order"), true);
  }

  // Stripe's message when the order's latest payment failed (GET orders/{id}/payment/), null
  // while it may still succeed or none was started.
  async function paymentFailure(orderId) {
    let payment;
    try {
      payment = await request("GET", `orders/${orderId}/payment/`, 200);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null; // none yet
      throw error;
    }
    expectShape(payment, { status: "string", failure_message: "string" });
    const failed = payment.status === "failed"
      || (payment.status === "requires_payment" && payment.failure_message !== "");
    return failed ? payment.failure_message || FAILED : null;
  }

  function offerRetry(config, orderId) {
    byId("order-retry-link").href = `${config.shopUrl}?pay=${encodeURIComponent(orderId)}`;
    show(byId("order-retry"), true);
  }

  // Polls while the order waits for a payment in flight; after a cancelled Checkout there is
  // none, so the order is shown once. A failed payment stops the wait at once, unless the
  // payment just went through (the return URL says so, or the shop page noted it): a failure
  // read then is an earlier card's, until the webhook of the new one arrives.
  async function watch(config) {
    const orderId = config.orderId;
    const query = new URLSearchParams(window.location.search);
    const polling = query.get("checkout") !== "cancelled";
    const wentThrough = takePaymentSent(orderId) || query.get("redirect_status") === "succeeded"
      || query.has("session_id");
    const deadline = Date.now() + POLL_FOR_MS;
    setStatus("Loading your order…");
    for (;;) {
      try {
        const order = expectOrder(await request("GET", `orders/${orderId}/`, 200));
        render(order);
        if (order.status !== "pending_payment" || !polling) {
          setStatus("");
          return;
        }
        const failure = wentThrough ? null : await paymentFailure(orderId);
        if (failure) {
          showError(failure);
          setStatus("Your payment did not go through. The order is still waiting for payment.");
          offerRetry(config, orderId);
          return;
        }
        setStatus(query.get("redirect_status") === "failed"
          ? "Checking the result of the card check…" : "Waiting for the payment to be confirmed…");
      } catch (error) {
        // A blip (network, 5xx, rate limit) is retried on the next tick; anything else stops.
        if (!(error instanceof ApiError && error.retryable)) {
          setStatus("");
          showError(error.message);
          if (error.status === 401) Shop.account.render();
          return;
        }
      }
      if (Date.now() > deadline) {
        setStatus("The payment is not confirmed yet. Reload this page to check again.");
        return;
      }
      await sleep(POLL_EVERY_MS);
    }
  }

  function start(config) {
    Shop.account.start(() => {
      clearError();
      show(byId("order"), false);
      show(byId("order-retry"), false);
      if (Shop.account.isSignedIn()) return watch(config);
      setStatus("Sign in to see this order.");
      return undefined;
    });
    if (Shop.account.isSignedIn()) return watch(config);
    setStatus("Sign in to see this order.");
    return undefined;
  }

  Shop.orderPage = { start, notePaymentSent };
})(window.Shop);
