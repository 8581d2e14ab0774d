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
    name = "statusShard"
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

  attribute {
    name = "createdAt"
    type = "S"
  }

  # The indexes mirror jobsTableDefinition() in packages/pipeline/src/ledger.ts (the tests compare
  # them). KEYS_ONLY: the code reads job ids from them, then the items (BatchGetItem, consistent),
  # so each index write is one unit and a write that changes no index key writes no index.
  # byStatus is keyed "<status>#<0-7>" (write sharding: one key per status would cap the table
  # near 500 jobs/s); bySourceKey sorts by createdAt, which never changes (one index write a job).
  # The content cache needs no index: it reads "content#<sha256>#<recipe>" claim items consistently.
  global_secondary_index {
    name            = "byStatus"
    hash_key        = "statusShard"
    range_key       = "updatedAt"
    projection_type = "KEYS_ONLY"
  }

  global_secondary_index {
    name            = "bySourceKey"
    hash_key        = "sourceKey"
    range_key       = "createdAt"
    projection_type = "KEYS_ONLY"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  # No TTL: the ledger is the audit trail of every upload, and the content cache reads old records
  # (a content claim points at the job whose outputs it serves).

  tags = var.tags
}
