resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  # No data means nothing ran: not a failure.
  treat_missing_data = "notBreaching"

  alarm_actions = local.actions
  ok_actions    = local.actions

  tags = var.tags
}
