output "function_arns" {
  description = "Unqualified ARNs of the functions, by step (validate, resize, filter, optimize, notify)."
  value       = { for function, lambda in aws_lambda_function.this : function => lambda.arn }
}

output "function_names" {
  description = "Names of the functions, by step."
  value       = { for function, lambda in aws_lambda_function.this : function => lambda.function_name }
}

output "role_arns" {
  description = "ARNs of the functions' execution roles, by step."
  value       = { for function, role in aws_iam_role.this : function => role.arn }
}

output "log_group_names" {
  description = "Names of the functions' log groups, by step."
  value       = { for function, group in aws_cloudwatch_log_group.this : function => group.name }
}
