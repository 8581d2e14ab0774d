resource "aws_sns_topic" "this" {
  for_each = local.topics

  name              = "${var.name}-${each.key}"
  kms_master_key_id = var.kms_master_key_id

  tags = var.tags
}

resource "aws_sns_topic_subscription" "this" {
  for_each = local.subscriptions

  topic_arn     = aws_sns_topic.this[each.value.topic].arn
  protocol      = each.value.protocol
  endpoint      = each.value.endpoint
  filter_policy = each.value.filter_policy
}
