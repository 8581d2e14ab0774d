output "alarm_arns" {
  description = "ARNs of the alarms, by alarm (executions-failed, executions-timed-out, dead-letters, <step>-errors, <step>-throttles)."
  value       = { for alarm, resource in aws_cloudwatch_metric_alarm.this : alarm => resource.arn }
}

output "alarm_names" {
  description = "Names of the alarms, by alarm."
  value       = { for alarm, resource in aws_cloudwatch_metric_alarm.this : alarm => resource.alarm_name }
}
