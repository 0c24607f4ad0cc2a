//! The column lists of the object, notification and fault tables, shared by both backends:
//! their statements name these columns in this order (a write's parameters follow it) and
//! the shared decoders (`codec`) read them by name, so the two cannot list them apart.

pub(crate) const CHARGE_COLUMNS: &str = "id, permission_id, merchant_id, environment, currency, amount, capture_amount, refunded, refund_pending, refund_count, soft_descriptor, mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, mm_custom_information, provider_reference_id, platform_id, charge_initiator, channel, capture_now, can_handle_pending, state, state_reason, reason_description, pending_resolution, state_updated_at, created_at, authorized_at, expires_at, period_start, wcd_present, wcd_review_url, wcd_result_url, wcd_cancel_url, atypical_activity";

pub(crate) const REFUND_COLUMNS: &str = "id, charge_id, merchant_id, environment, currency, amount, soft_descriptor, state, state_reason, state_updated_at, created_at, pending_decline";

pub(crate) const SESSION_COLUMNS: &str = "id, merchant_id, environment, region, store_id, review_url, result_url, cancel_url, process_order, kind, rm_present, rm_unit, rm_value, rm_amount, rm_currency, payment_intent, charge_amount, total_order_amount, amount_currency, can_handle_pending, soft_descriptor, presentment_currency, allow_overcharge, extend_expiration, mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, mm_custom_information, platform_id, buyer_id, buyer_name, buyer_email, buyer_phone, shipping_address, billing_address, payment_method, buyer_confirmed, state, state_reason, state_updated_at, created_at, expires_at, charge_permission_id, charge_id, supplementary_data, setup_only, delivery_specifications, address_details, renews_permission, checkout_button_text, estimate_order_total, estimate_currency, provider_reference_id";

pub(crate) const PERMISSION_COLUMNS: &str = "id, merchant_id, environment, region, kind, currency, amount_limit, captured, open_authorized, period_start, period_used, charges_created, charge_sequence, refund_sequence, state, state_reason, state_description, state_updated_at, created_at, expires_at, mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, mm_custom_information, mm_locked, rm_present, rm_unit, rm_value, rm_amount, buyer_id, buyer_name, buyer_email, buyer_phone, payment_method, platform_id, shipping_address, billing_address, setup_only";

pub(crate) const NOTIFICATION_COLUMNS: &str = "notification_id, message_id, merchant_id, environment, object_type, object_id, \
     charge_permission_id, notification_type, created_at, status, next_attempt_ms, first_attempt_ms, round_attempts, published_ms";

pub(crate) const FAULT_COLUMNS: &str =
    "fault_id, merchant_id, environment, reason_code, count, remaining, operations, delay_ms, created_at";
