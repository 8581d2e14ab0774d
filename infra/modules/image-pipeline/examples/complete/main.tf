provider "aws" {
  region = var.region

  default_tags {
    tags = { project = "imgflow", example = "complete" }
  }
}

data "aws_caller_identity" "current" {}

locals {
  name = "imgflow-complete"

  # Built from its name, not read from aws_sqs_queue.results.arn: the subscription is keyed by
  # its endpoint, which Terraform must know when planning.
  results_queue_arn = "arn:aws:sqs:${var.region}:${data.aws_caller_identity.current.account_id}:${local.name}-results"
}

# Every input of the module. Next to it, what a real deployment brings along: a customer
# managed key, an alarm topic, a queue that receives the success notifications, a permissions
# boundary, and one role (the EventBridge target's) supplied the way a central IAM process would.
module "image_pipeline" {
  source = "../../"

  name          = local.name
  artifacts_dir = var.artifacts_dir
  architecture  = "arm64"
  workflow_type = "STANDARD"

  recipe_json = jsonencode({
    version    = "1"
    renditions = [{ name = "thumb", width = 240 }, { name = "hero", width = 1600 }]
    formats    = ["avif", "webp", "jpeg"]
  })
  limits_json = jsonencode({ maxPixels = 40000000 })

  functions = {
    optimize = { memory_size = 3008, reserved_concurrency = 50 }
    notify   = { environment = { POWERTOOLS_LOG_LEVEL = "DEBUG" } }
  }

  output_prefix = "renditions/"
  work_prefix   = "tmp/work/"
  assets_prefix = "assets/"
  key_prefix    = "incoming/"
  key_suffixes  = [".jpg", ".jpeg", ".png", ".webp", ".heic"]

  # The sweeper (on by default) ends jobs whose execution died; here every 10 minutes.
  sweeper_enabled             = true
  sweeper_schedule_expression = "rate(10 minutes)"

  # The backfill (on by default) processes what incoming/ held before the pipeline: 50 objects at
  # a time, stopping when more than 2% of them fail.
  backfill_enabled                      = true
  backfill_max_concurrency              = 50
  backfill_tolerated_failure_percentage = 2
  backfill_report_prefix                = "reports/backfill/"

  subscriptions = [
    {
      topic         = "success"
      protocol      = "sqs"
      endpoint      = local.results_queue_arn
      filter_policy = jsonencode({ event = ["job.succeeded"] })
    },
    { topic = "error", protocol = "email", endpoint = var.oncall_email },
  ]
  alarm_topic_arn = aws_sns_topic.alarms.arn

  retry                  = { interval_seconds = 2, max_attempts = 4 }
  workflow_log_level     = "ALL"
  include_execution_data = false

  log_retention_days  = 90
  tracing_enabled     = true
  kms_key_arn         = aws_kms_key.this.arn
  deletion_protection = true
  force_destroy       = false

  role_path                 = "/imgflow/"
  role_permissions_boundary = aws_iam_policy.boundary.arn
  extra_policy_statements = {
    # The recipe's watermark comes from the brand team's bucket.
    filter = [
      {
        sid       = "ReadBrandWatermarks"
        actions   = ["s3:GetObject"]
        resources = ["arn:aws:s3:::${var.brand_assets_bucket}/watermarks/*"]
      },
    ]
  }
  existing_role_arns = {
    trigger = aws_iam_role.trigger.arn
  }

  tags = { owner = "platform" }
}

# The default key policy: the account's IAM policies decide who may use the key (the module
# grants the functions kms:Decrypt and kms:GenerateDataKey on it).
data "aws_iam_policy_document" "key" {
  statement {
    sid       = "EnableIamPolicies"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description         = "${local.name}: buckets, job ledger and topics"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sqs_queue" "results" {
  name                    = "${local.name}-results"
  sqs_managed_sse_enabled = true
}

# The subscriber's side of the sqs subscription: only the success topic may send.
data "aws_iam_policy_document" "results" {
  statement {
    sid       = "SuccessTopicSends"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.results.arn]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [module.image_pipeline.success_topic_arn]
    }
  }
}

resource "aws_sqs_queue_policy" "results" {
  queue_url = aws_sqs_queue.results.id
  policy    = data.aws_iam_policy_document.results.json
}

# A permissions boundary as a platform team sets one: the services imgflow uses, nothing else.
data "aws_iam_policy_document" "boundary" {
  statement {
    sid = "ImgflowServices"
    actions = [
      "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
      "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query",
      "sns:Publish", "kms:Decrypt", "kms:GenerateDataKey",
      "logs:CreateLogStream", "logs:PutLogEvents", "logs:CreateLogDelivery", "logs:GetLogDelivery",
      "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
      "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
      "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
      "lambda:InvokeFunction", "states:StartExecution",
      # The backfill's Distributed Map: its child executions, its listing, its multipart report.
      "states:DescribeExecution", "states:StopExecution", "s3:ListBucket",
      "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  name   = "${local.name}-boundary-${var.region}"
  path   = "/imgflow/"
  policy = data.aws_iam_policy_document.boundary.json
}

# The EventBridge target's role, created outside the module as a central IAM process would:
# trust events.amazonaws.com from this account, attach exactly the module's role_policy_json.
data "aws_iam_policy_document" "trigger_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "trigger" {
  name                 = "${local.name}-central-trigger-${var.region}"
  path                 = "/imgflow/"
  permissions_boundary = aws_iam_policy.boundary.arn
  assume_role_policy   = data.aws_iam_policy_document.trigger_trust.json
}

resource "aws_iam_role_policy" "trigger" {
  name   = "imgflow-trigger"
  role   = aws_iam_role.trigger.id
  policy = module.image_pipeline.role_policy_json["trigger"]
}
