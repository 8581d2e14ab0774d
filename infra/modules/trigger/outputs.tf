output "rule_arn" {
  description = "ARN of the EventBridge rule."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "rule_name" {
  description = "Name of the EventBridge rule."
  value       = aws_cloudwatch_event_rule.this.name
}

output "event_pattern" {
  description = "The rule's event pattern (JSON)."
  value       = aws_cloudwatch_event_rule.this.event_pattern
}

output "role_arn" {
  description = "ARN of the role EventBridge uses to start executions: the role created here, or existing_role_arn (create_role = false)."
  value       = local.role_arn
}

output "role_name" {
  description = "Name of the role created here (<name>-trigger-<region>); null with create_role = false."
  value       = one(aws_iam_role.this[*].name)
}

output "role_policy_json" {
  description = "The least-privilege policy of the EventBridge role (JSON). Attached to the role created here; attach it yourself to existing_role_arn."
  value       = data.aws_iam_policy_document.this.json
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue for events that could not start an execution."
  value       = aws_sqs_queue.dead_letter.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue (the alarms module watches it)."
  value       = aws_sqs_queue.dead_letter.name
}
