// Confirming a PaymentIntent in the page. Online: Stripe.js and its Payment Element. Offline
// (the server gave us the emulator's origin): the page stands in for Stripe.js, as the
// emulator documents: POST <emulator>/v1/payment_intents/<id>/confirm with the publishable
// key as Bearer and the form fields client_secret and payment_method.
"use strict";

window.Shop = window.Shop || {};

(function (Shop) {
  const GENERIC = "The payment could not be completed. Please try again.";

  // A decline or a card problem: Stripe's message is meant for the shopper.
  class CardError extends Error {}

  function checkStarted(started) {
    Shop.api.expectShape(started, Shop.api.SHAPES.paymentIntent);
    const idOk = /^pi_[A-Za-z0-9_]+$/.test(started.payment_intent_id);
    const secretOk = started.client_secret.startsWith(`${started.payment_intent_id}_secret_`);
    const keyOk = /^pk_(test|live)_[A-Za-z0-9]+$/.test(started.publishable_key);
    if (!idOk || !secretOk || !keyOk) throw new Error(GENERIC);
    return started;
  }

  // The emulator stand-in. Returns {status, redirectUrl}.
  async function confirmWithEmulator(emulatorOrigin, started, paymentMethod, returnUrl) {
    const url = `${emulatorOrigin}/v1/payment_intents/${encodeURIComponent(started.payment_intent_id)}/confirm`;
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${started.publishable_key}`,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({
          client_secret: started.client_secret,
          payment_method: paymentMethod,
          return_url: returnUrl,
        }),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new Error("The payment service could not be reached. Please try again.");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      throw new Error(GENERIC);
    }
    if (response.status === 402) {
      const message = body && body.error && typeof body.error.message === "string" ? body.error.message : "";
      throw new CardError(message || "Your card was declined.");
    }
    if (response.status !== 200 || !body || body.id !== started.payment_intent_id
        || typeof body.status !== "string") {
      throw new Error(GENERIC);
    }
    const next = body.next_action;
    const redirectUrl = next && next.redirect_to_url && typeof next.redirect_to_url.url === "string"
      ? next.redirect_to_url.url : null;
    return { status: body.status, redirectUrl };
  }

  // Stripe.js: mount the Payment Element, then confirmPayment. Returns {confirm()}.
  function mountStripeElement(started, container, returnUrl) {
    if (typeof window.Stripe !== "function") {
      throw new Error("The card form could not be loaded. Please reload the page.");
    }
    const stripe = window.Stripe(started.publishable_key);
    const elements = stripe.elements({ clientSecret: started.client_secret });
    elements.create("payment").mount(container);
    return {
      async confirm() {
        const result = await stripe.confirmPayment({
          elements,
          confirmParams: { return_url: returnUrl },
          redirect: "if_required",
        });
        if (result.error) {
          const shopperSafe = result.error.type === "card_error" || result.error.type === "validation_error";
          throw shopperSafe ? new CardError(result.error.message) : new Error(GENERIC);
        }
        return { status: result.paymentIntent.status, redirectUrl: null };
      },
    };
  }

  Shop.cardPayment = { CardError, checkStarted, confirmWithEmulator, mountStripeElement };
})(window.Shop);
