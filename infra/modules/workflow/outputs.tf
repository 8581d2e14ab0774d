output "state_machine_arn" {
  description = "ARN of the state machine (the trigger's target; `imgflow submit` starts executions on it)."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "role_arn" {
  description = "ARN of the state machine's execution role: the role created here, or existing_role_arn (create_role = false)."
  value       = local.role_arn
}

output "role_name" {
  description = "Name of the role created here (<name>-workflow-<region>); null with create_role = false."
  value       = one(aws_iam_role.this[*].name)
}

output "role_policy_json" {
  description = "The least-privilege policy of the state machine's role (JSON). Attached to the role created here; attach it yourself to existing_role_arn."
  value       = data.aws_iam_policy_document.this.json
}

output "log_group_name" {
  description = "Name of the execution log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the execution log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "definition" {
  description = "The rendered ASL definition, as deployed."
  value       = aws_sfn_state_machine.this.definition
}

output "type" {
  description = "The workflow type the state machine runs as (STANDARD or EXPRESS): type, or the contract's default. A backfill's child executions run as this type."
  value       = aws_sfn_state_machine.this.type
}
