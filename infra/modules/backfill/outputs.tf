output "state_machine_arn" {
  description = "ARN of the backfill state machine: start an execution with {} (the whole upload prefix) or {\"prefix\": \"<key prefix>\"}."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the backfill state machine (<name>-backfill)."
  value       = aws_sfn_state_machine.this.name
}

output "role_arn" {
  description = "ARN of the backfill state machine's execution role: the role created here, or existing_role_arn (create_role = false)."
  value       = local.role_arn
}

output "role_name" {
  description = "Name of the role created here (<name>-backfill-<region>); null with create_role = false."
  value       = one(aws_iam_role.this[*].name)
}

output "role_policy_json" {
  description = "The least-privilege policy of the backfill role (JSON). Attached to the role created here; attach it yourself to existing_role_arn."
  value       = data.aws_iam_policy_document.this.json
}

output "log_group_name" {
  description = "Name of the backfill's execution log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the backfill's execution log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "report_prefix" {
  description = "Where the map runs write their reports: s3://<report bucket>/<report_prefix><map run id>/."
  value       = local.report_prefix
}

output "definition" {
  description = "The rendered backfill ASL definition, as deployed."
  value       = aws_sfn_state_machine.this.definition
}
