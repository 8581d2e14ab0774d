locals {
  topics = toset(["success", "error"])

  # Keyed by what identifies a subscription, so reordering the list does not recreate any.
  subscriptions = { for subscription in var.subscriptions : "${subscription.topic}|${subscription.protocol}|${subscription.endpoint}" => subscription }
}
