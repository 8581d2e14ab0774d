output "function_arns" {
  description = "Unqualified ARNs of the functions, by step (validate, resize, filter, optimize, notify)."
  value       = { for function, lambda in aws_lambda_function.this : function => lambda.arn }
}

output "function_names" {
  description = "Names of the functions, by step."
  value       = { for function, lambda in aws_lambda_function.this : function => lambda.function_name }
}

output "role_arns" {
  description = "ARNs of the functions' execution roles, by step: the roles created here and those passed in existing_role_arns."
  value       = local.role_arns
}

output "role_names" {
  description = "Names of the execution roles created here, by step (<name>-<step>-<region>; steps in existing_role_arns are absent)."
  value       = { for function, role in aws_iam_role.this : function => role.name }
}

output "role_policy_json" {
  description = "The least-privilege policy of each function's role, by step (JSON). Attached to the roles created here; attach it yourself to a role passed in existing_role_arns."
  value       = local.function_policies
}

output "log_group_names" {
  description = "Names of the functions' log groups, by step."
  value       = { for function, group in aws_cloudwatch_log_group.this : function => group.name }
}

output "log_group_arns" {
  description = "ARNs of the functions' log groups, by step."
  value       = { for function, group in aws_cloudwatch_log_group.this : function => group.arn }
}
