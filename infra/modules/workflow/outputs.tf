output "state_machine_arn" {
  description = "ARN of the state machine (the trigger's target; `imgflow submit` starts executions on it)."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "role_arn" {
  description = "ARN of the state machine's execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Name of the execution log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "definition" {
  description = "The rendered ASL definition, as deployed."
  value       = aws_sfn_state_machine.this.definition
}
