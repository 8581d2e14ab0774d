resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "jobId"
  deletion_protection_enabled = var.deletion_protection_enabled

  attribute {
    name = "jobId"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "contentKey"
    type = "S"
  }

  attribute {
    name = "sourceKey"
    type = "S"
  }

  attribute {
    name = "updatedAt"
    type = "S"
  }

  # The indexes mirror jobsTableDefinition() in packages/pipeline/src/ledger.ts (the tests compare
  # them). All project ALL and sort by updatedAt: the queries read newest first.
  global_secondary_index {
    name            = "byStatus"
    hash_key        = "status"
    range_key       = "updatedAt"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "byContent"
    hash_key        = "contentKey"
    range_key       = "updatedAt"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "bySourceKey"
    hash_key        = "sourceKey"
    range_key       = "updatedAt"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  # No TTL: the ledger is the audit trail of every upload, and the content cache reads old records.

  tags = var.tags
}
