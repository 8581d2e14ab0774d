output "success_topic_arn" {
  description = "ARN of the topic job.succeeded messages go to (IMGFLOW_SUCCESS_TOPIC_ARN)."
  value       = aws_sns_topic.this["success"].arn
}

output "error_topic_arn" {
  description = "ARN of the topic job.rejected and job.failed messages go to (IMGFLOW_ERROR_TOPIC_ARN)."
  value       = aws_sns_topic.this["error"].arn
}

output "subscription_arns" {
  description = "ARNs of the subscriptions, keyed \"<topic>|<protocol>|<endpoint>\" (\"pending confirmation\" until an email or https endpoint confirms)."
  value       = { for key, subscription in aws_sns_topic_subscription.this : key => subscription.arn }
}
