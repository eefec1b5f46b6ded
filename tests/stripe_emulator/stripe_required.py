"""The fields Stripe always sends (nullable ones as null), for each object type the emulator
makes: the `required` properties of Stripe's OpenAPI spec, as the example objects Stripe
publishes with it list them (`openapi/fixtures3.json` in Stripe's openapi repository: each
example carries exactly the required properties). The SDK's annotations cannot say this
(conformance.py). One change: a charge's `refunds` list, which the examples still carry, is
sent at the pinned version only when expanded, so it is not listed.

`NESTED` holds the same for the nested objects those examples show (keyed by the SDK class
that types them); only an absent field is reported there, as the examples leave some
nested objects empty. A holder of one object per payment method type (a charge's
`payment_method_details`) requires only `type`: the example's `card` is there because the
example is a card payment."""


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


REQUIRED: dict[str, frozenset[str]] = {
    "account": _names(
        """
        business_profile business_type capabilities charges_enabled controller country created
        default_currency details_submitted email external_accounts future_requirements id metadata
        object payouts_enabled requirements settings tos_acceptance type
        """
    ),
    "balance_transaction": _names(
        """
        amount available_on balance_type created currency description exchange_rate fee fee_details
        id net object reporting_category source status type
        """
    ),
    "charge": _names(
        """
        amount amount_captured amount_refunded application application_fee application_fee_amount
        balance_transaction billing_details calculated_statement_descriptor captured created
        currency customer description disputed failure_balance_transaction failure_code
        failure_message fraud_details id livemode metadata object on_behalf_of outcome paid
        payment_intent payment_method payment_method_details receipt_email receipt_number
        receipt_url refunded review shipping source source_transfer statement_descriptor
        statement_descriptor_suffix status transfer_data transfer_group
        """
    ),
    "checkout.session": _names(
        """
        adaptive_pricing after_expiration allow_promotion_codes amount_subtotal amount_total
        automatic_tax billing_address_collection cancel_url client_reference_id client_secret
        collected_information consent consent_collection created currency currency_conversion
        custom_fields custom_text customer customer_account customer_creation customer_details
        customer_email discounts expires_at id integration_identifier invoice invoice_creation
        livemode locale managed_payments metadata mode object origin_context payment_intent
        payment_link payment_method_collection payment_method_configuration_details
        payment_method_options payment_method_types payment_status permissions
        phone_number_collection recovered_from saved_payment_method_options setup_intent
        shipping_address_collection shipping_cost shipping_options status submit_type subscription
        success_url total_details ui_mode url wallet_options
        """
    ),
    "customer": _names(
        """
        address balance created currency default_source delinquent description discount email id
        invoice_prefix invoice_settings livemode metadata name next_invoice_sequence object phone
        preferred_locales shipping tax_exempt test_clock
        """
    ),
    "dispute": _names(
        """
        amount balance_transactions charge created currency enhanced_eligibility_types evidence
        evidence_details id is_charge_refundable livemode metadata object payment_intent
        payment_method_details reason status
        """
    ),
    "event": _names("api_version created data id livemode object pending_webhooks request type"),
    "item": _names(
        """
        adjustable_quantity amount_discount amount_subtotal amount_tax amount_total currency
        description id metadata object price quantity
        """
    ),
    "payment_intent": _names(
        """
        amount amount_capturable amount_details amount_received application application_fee_amount
        automatic_payment_methods canceled_at cancellation_reason capture_method client_secret
        confirmation_method created currency customer customer_account description
        excluded_payment_method_types id last_payment_error latest_charge livemode managed_payments
        metadata next_action object on_behalf_of payment_method payment_method_configuration_details
        payment_method_options payment_method_types processing receipt_email review
        setup_future_usage shipping source statement_descriptor statement_descriptor_suffix status
        transfer_data transfer_group
        """
    ),
    "payment_method": _names(
        """
        allow_redisplay billing_details card created customer customer_account id livemode metadata
        object type
        """
    ),
    "price": _names(
        """
        active billing_scheme created currency custom_unit_amount id livemode lookup_key metadata
        nickname object product recurring tax_behavior tiers_mode transform_quantity type
        unit_amount unit_amount_decimal
        """
    ),
    "product": _names(
        """
        active created default_price description id images livemode marketing_features metadata name
        object package_dimensions shippable statement_descriptor tax_code type unit_label updated
        url
        """
    ),
    "refund": _names(
        """
        amount balance_transaction charge created currency customer customer_account
        destination_details id metadata object payment_intent payment_method reason receipt_number
        source_transfer_reversal status transfer_reversal
        """
    ),
    "webhook_endpoint": _names(
        """
        api_version application created description enabled_events id livemode metadata object
        status url
        """
    ),
}

NESTED: dict[str, frozenset[str]] = {
    "stripe._account.Account.BusinessProfile": _names(
        """
        annual_revenue estimated_worker_count mcc minority_owned_business_designation name
        product_description support_address support_email support_phone support_url url
        """
    ),
    "stripe._account.Account.BusinessProfile.AnnualRevenue": _names(
        "amount currency fiscal_year_end"
    ),
    "stripe._account.Account.BusinessProfile.SupportAddress": _names(
        "city country line1 line2 postal_code state"
    ),
    "stripe._account.Account.Capabilities": _names("card_payments transfers"),
    "stripe._account.Account.Controller": _names("type"),
    "stripe._account.Account.FutureRequirements": _names(
        """
        alternatives current_deadline currently_due disabled_reason errors eventually_due past_due
        pending_verification
        """
    ),
    "stripe._account.Account.Requirements": _names(
        """
        alternatives current_deadline currently_due disabled_reason errors eventually_due past_due
        pending_verification
        """
    ),
    "stripe._account.Account.Settings": _names(
        """
        bacs_debit_payments branding card_issuing card_payments dashboard invoices payments payouts
        sepa_debit_payments
        """
    ),
    "stripe._account.Account.Settings.BacsDebitPayments": _names(
        "display_name service_user_number"
    ),
    "stripe._account.Account.Settings.Branding": _names("icon logo primary_color secondary_color"),
    "stripe._account.Account.Settings.CardIssuing": _names("tos_acceptance"),
    "stripe._account.Account.Settings.CardIssuing.TosAcceptance": _names("date ip"),
    "stripe._account.Account.Settings.CardPayments": _names(
        """
        decline_on statement_descriptor_prefix statement_descriptor_prefix_kana
        statement_descriptor_prefix_kanji
        """
    ),
    "stripe._account.Account.Settings.CardPayments.DeclineOn": _names("avs_failure cvc_failure"),
    "stripe._account.Account.Settings.Dashboard": _names("display_name timezone"),
    "stripe._account.Account.Settings.Invoices": _names(
        "default_account_tax_ids hosted_payment_method_save"
    ),
    "stripe._account.Account.Settings.Payments": _names(
        """
        statement_descriptor statement_descriptor_kana statement_descriptor_kanji
        statement_descriptor_prefix_kana statement_descriptor_prefix_kanji
        """
    ),
    "stripe._account.Account.Settings.Payouts": _names(
        "debit_negative_balances schedule statement_descriptor"
    ),
    "stripe._account.Account.Settings.Payouts.Schedule": _names("delay_days interval"),
    "stripe._account.Account.TosAcceptance": _names("date ip user_agent"),
    "stripe._charge.Charge.BillingDetails": _names("address email name phone tax_id"),
    "stripe._charge.Charge.BillingDetails.Address": _names(
        "city country line1 line2 postal_code state"
    ),
    "stripe._charge.Charge.Outcome": _names(
        """
        advice_code network_advice_code network_decline_code network_status reason seller_message
        type
        """
    ),
    "stripe._charge.Charge.PaymentMethodDetails": _names("type"),
    "stripe._charge.Charge.PaymentMethodDetails.Card": _names(
        """
        amount_authorized authorization_code brand checks country exp_month exp_year
        extended_authorization fingerprint funding incremental_authorization installments last4
        mandate multicapture network network_token network_transaction_id overcapture
        regulated_status three_d_secure transaction_link_id wallet
        """
    ),
    "stripe._charge.Charge.PaymentMethodDetails.Card.Checks": _names(
        "address_line1_check address_postal_code_check cvc_check"
    ),
    "stripe._charge.Charge.PaymentMethodDetails.Card.ExtendedAuthorization": _names("status"),
    "stripe._charge.Charge.PaymentMethodDetails.Card.IncrementalAuthorization": _names("status"),
    "stripe._charge.Charge.PaymentMethodDetails.Card.Installments": _names("plan"),
    "stripe._charge.Charge.PaymentMethodDetails.Card.Installments.Plan": _names(
        "count interval type"
    ),
    "stripe._charge.Charge.PaymentMethodDetails.Card.Multicapture": _names("status"),
    "stripe._charge.Charge.PaymentMethodDetails.Card.NetworkToken": _names("used"),
    "stripe._charge.Charge.PaymentMethodDetails.Card.Overcapture": _names(
        "maximum_amount_capturable status"
    ),
    "stripe._charge.Charge.PaymentMethodDetails.Card.ThreeDSecure": _names(
        """
        authentication_flow electronic_commerce_indicator exemption_indicator result result_reason
        transaction_id version
        """
    ),
    "stripe._charge.Charge.PaymentMethodDetails.Card.Wallet": _names("dynamic_last4 type"),
    "stripe._charge.Charge.TransferData": _names("amount destination"),
    "stripe._customer.Customer.Address": _names("city country line1 line2 postal_code state"),
    "stripe._customer.Customer.InvoiceSettings": _names(
        "custom_fields default_payment_method footer rendering_options"
    ),
    "stripe._customer.Customer.InvoiceSettings.RenderingOptions": _names(
        "amount_tax_display template"
    ),
    "stripe._discount.Discount.Source": _names("coupon type"),
    "stripe._dispute.Dispute.Evidence": _names(
        """
        access_activity_log billing_address cancellation_policy cancellation_policy_disclosure
        cancellation_rebuttal customer_communication customer_email_address customer_name
        customer_purchase_ip customer_signature duplicate_charge_documentation
        duplicate_charge_explanation duplicate_charge_id enhanced_evidence product_description
        receipt refund_policy refund_policy_disclosure refund_refusal_explanation service_date
        service_documentation shipping_address shipping_carrier shipping_date shipping_documentation
        shipping_tracking_number uncategorized_file uncategorized_text
        """
    ),
    "stripe._dispute.Dispute.EvidenceDetails": _names(
        "due_by enhanced_eligibility has_evidence past_due submission_count"
    ),
    "stripe._dispute.Dispute.PaymentMethodDetails": _names("type"),
    "stripe._dispute.Dispute.PaymentMethodDetails.Card": _names(
        "brand case_type network network_reason_code"
    ),
    "stripe._line_item.LineItem.AdjustableQuantity": _names("enabled maximum minimum"),
    "stripe._payment_intent.PaymentIntent.AmountDetails": _names("tip"),
    "stripe._payment_intent.PaymentIntent.AutomaticPaymentMethods": _names("enabled"),
    "stripe._payment_intent.PaymentIntent.LastPaymentError": _names("type"),
    "stripe._payment_intent.PaymentIntent.ManagedPayments": _names("enabled"),
    "stripe._payment_intent.PaymentIntent.NextAction": _names("type"),
    "stripe._payment_intent.PaymentIntent.PaymentMethodConfigurationDetails": _names("id parent"),
    "stripe._payment_intent.PaymentIntent.Processing": _names("type"),
    "stripe._payment_intent.PaymentIntent.TransferData": _names("destination"),
    "stripe._payment_method.PaymentMethod.BillingDetails": _names(
        "address email name phone tax_id"
    ),
    "stripe._payment_method.PaymentMethod.BillingDetails.Address": _names(
        "city country line1 line2 postal_code state"
    ),
    "stripe._payment_method.PaymentMethod.Card": _names(
        """
        brand checks country display_brand exp_month exp_year fingerprint funding generated_from
        last4 networks regulated_status three_d_secure_usage wallet
        """
    ),
    "stripe._payment_method.PaymentMethod.Card.Checks": _names(
        "address_line1_check address_postal_code_check cvc_check"
    ),
    "stripe._payment_method.PaymentMethod.Card.GeneratedFrom": _names(
        "charge payment_method_details setup_attempt"
    ),
    "stripe._payment_method.PaymentMethod.Card.GeneratedFrom.PaymentMethodDetails": _names("type"),
    "stripe._payment_method.PaymentMethod.Card.Networks": _names("available preferred"),
    "stripe._payment_method.PaymentMethod.Card.ThreeDSecureUsage": _names("supported"),
    "stripe._payment_method.PaymentMethod.Card.Wallet": _names("dynamic_last4 type"),
    "stripe._price.Price.CustomUnitAmount": _names("maximum minimum preset"),
    "stripe._price.Price.Recurring": _names(
        "interval interval_count meter trial_period_days usage_type"
    ),
    "stripe._price.Price.TransformQuantity": _names("divide_by round"),
    "stripe._product.Product.PackageDimensions": _names("height length weight width"),
    "stripe._refund.Refund.DestinationDetails": _names("type"),
    "stripe._refund.Refund.DestinationDetails.Card": _names("type"),
    "stripe.checkout._session.Session.AdaptivePricing": _names("enabled"),
    "stripe.checkout._session.Session.AfterExpiration": _names("recovery"),
    "stripe.checkout._session.Session.AfterExpiration.Recovery": _names(
        "allow_promotion_codes enabled expires_at url"
    ),
    "stripe.checkout._session.Session.AutomaticTax": _names("enabled liability provider status"),
    "stripe.checkout._session.Session.AutomaticTax.Liability": _names("type"),
    "stripe.checkout._session.Session.CollectedInformation": _names(
        "business_name individual_name shipping_details"
    ),
    "stripe.checkout._session.Session.CollectedInformation.ShippingDetails": _names("address name"),
    "stripe.checkout._session.Session.CollectedInformation.ShippingDetails.Address": _names(
        "city country line1 line2 postal_code state"
    ),
    "stripe.checkout._session.Session.Consent": _names("promotions terms_of_service"),
    "stripe.checkout._session.Session.ConsentCollection": _names(
        "payment_method_reuse_agreement promotions terms_of_service"
    ),
    "stripe.checkout._session.Session.ConsentCollection.PaymentMethodReuseAgreement": _names(
        "position"
    ),
    "stripe.checkout._session.Session.CurrencyConversion": _names(
        "amount_subtotal amount_total fx_rate source_currency"
    ),
    "stripe.checkout._session.Session.CustomText": _names(
        "after_submit shipping_address submit terms_of_service_acceptance"
    ),
    "stripe.checkout._session.Session.CustomText.AfterSubmit": _names("message"),
    "stripe.checkout._session.Session.CustomText.ShippingAddress": _names("message"),
    "stripe.checkout._session.Session.CustomText.Submit": _names("message"),
    "stripe.checkout._session.Session.CustomText.TermsOfServiceAcceptance": _names("message"),
    "stripe.checkout._session.Session.CustomerDetails": _names(
        "address business_name email individual_name name phone tax_exempt tax_ids"
    ),
    "stripe.checkout._session.Session.CustomerDetails.Address": _names(
        "city country line1 line2 postal_code state"
    ),
    "stripe.checkout._session.Session.InvoiceCreation": _names("enabled invoice_data"),
    "stripe.checkout._session.Session.InvoiceCreation.InvoiceData": _names(
        "account_tax_ids custom_fields description footer issuer metadata rendering_options"
    ),
    "stripe.checkout._session.Session.InvoiceCreation.InvoiceData.Issuer": _names("type"),
    "stripe.checkout._session.Session.InvoiceCreation.InvoiceData.RenderingOptions": _names(
        "amount_tax_display template"
    ),
    "stripe.checkout._session.Session.ManagedPayments": _names("enabled"),
    "stripe.checkout._session.Session.PaymentMethodConfigurationDetails": _names("id parent"),
    "stripe.checkout._session.Session.Permissions": _names("update_shipping_details"),
    "stripe.checkout._session.Session.PhoneNumberCollection": _names("enabled"),
    "stripe.checkout._session.Session.SavedPaymentMethodOptions": _names(
        "allow_redisplay_filters payment_method_remove payment_method_save"
    ),
    "stripe.checkout._session.Session.ShippingAddressCollection": _names("allowed_countries"),
    "stripe.checkout._session.Session.ShippingCost": _names(
        "amount_subtotal amount_tax amount_total shipping_rate"
    ),
    "stripe.checkout._session.Session.TotalDetails": _names(
        "amount_discount amount_shipping amount_tax"
    ),
}
