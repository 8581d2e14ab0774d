output "table_name" {
  description = "Name of the job ledger table (IMGFLOW_JOBS_TABLE)."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the job ledger table."
  value       = aws_dynamodb_table.this.arn
}

output "index_arns" {
  description = "ARNs of the global secondary indexes, by index name (byStatus, bySourceKey)."
  value       = { for index in aws_dynamodb_table.this.global_secondary_index : index.name => "${aws_dynamodb_table.this.arn}/index/${index.name}" }
}
