output "function_name" {
  description = "Name of the sweeper function (<name>-sweep)."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the sweeper function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the sweeper's execution role: the role created here, or existing_role_arn (create_role = false)."
  value       = local.role_arn
}

output "role_name" {
  description = "Name of the role created here (<name>-sweep-<region>); null with create_role = false."
  value       = one(aws_iam_role.this[*].name)
}

output "role_policy_json" {
  description = "The least-privilege policy of the sweeper's role (JSON). Attached to the role created here; attach it yourself to existing_role_arn."
  value       = data.aws_iam_policy_document.this.json
}

output "log_group_name" {
  description = "Name of the sweeper's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the sweeper's log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "rule_arn" {
  description = "ARN of the EventBridge rule that runs the sweeper on its schedule."
  value       = aws_cloudwatch_event_rule.schedule.arn
}

output "rule_name" {
  description = "Name of the EventBridge rule that runs the sweeper."
  value       = aws_cloudwatch_event_rule.schedule.name
}

output "schedule_expression" {
  description = "The schedule the sweeper runs on (schedule_expression, or the contract's)."
  value       = aws_cloudwatch_event_rule.schedule.schedule_expression
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue for scheduled events that could not invoke the sweeper."
  value       = aws_sqs_queue.dead_letter.arn
}

output "dead_letter_queue_url" {
  description = "URL of the sweeper's dead-letter queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_name" {
  description = "Name of the sweeper's dead-letter queue."
  value       = aws_sqs_queue.dead_letter.name
}

output "error_metric" {
  description = "The metric counting the sweeper's ERROR log lines (jobs a run could not end or notify): { namespace, name }."
  value = {
    namespace = aws_cloudwatch_log_metric_filter.errors.metric_transformation[0].namespace
    name      = aws_cloudwatch_log_metric_filter.errors.metric_transformation[0].name
  }
}
