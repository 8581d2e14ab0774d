data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Roles are global: the region in the name lets the same name deploy in several regions.
resource "aws_iam_role" "this" {
  count = var.create_role ? 1 : 0

  name                 = local.role_name
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "imgflow sweeper: ends abandoned jobs, sends missed notifications; exactly the AWS actions its code performs."
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json

  tags = var.tags

  lifecycle {
    # A renamed role is replaced without leaving the function without one.
    create_before_destroy = true

    precondition {
      condition     = length(local.role_name) <= 64
      error_message = "The role name ${local.role_name} is longer than the 64 characters IAM allows: shorten name, or bring a role (create_role = false, existing_role_arn)."
    }
  }
}

# What the sweeper's code does (packages/fn-sweep): lists jobs by status (Query on the byStatus
# index, keys only, then BatchGetItem), ends them and claims their notifications with conditional
# UpdateItems (also on a job's content claim item, same table), deletes an abandoned job's work
# objects by their known keys (DeleteObjects: s3:DeleteObject per key, no listing), publishes
# job.failed, and any missed job.succeeded/job.rejected/job.failed, on their topics.
data "aws_iam_policy_document" "this" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = local.tracing_is_active ? ["xray"] : []

    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "ListJobsByStatus"
    actions   = ["dynamodb:Query"]
    resources = [var.status_index_arn]
  }

  statement {
    sid       = "ReadAndEndJobs"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"]
    resources = [var.jobs_table_arn]
  }

  statement {
    sid       = "DeleteWorkObjects"
    actions   = ["s3:DeleteObject"]
    resources = [local.output_work]
  }

  statement {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [var.success_topic_arn, var.error_topic_arn]
  }

  dynamic "statement" {
    for_each = var.extra_policy_statements

    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.create_role || var.existing_role_arn != null
      error_message = "create_role = false needs existing_role_arn: the role to use instead."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create_role ? 1 : 0

  name   = local.function_name
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_function" "this" {
  function_name    = local.function_name
  description      = "imgflow sweeper: ends jobs whose execution died, sends missed notifications"
  role             = local.role_arn
  filename         = local.zip_path
  source_code_hash = filebase64sha256(local.zip_path)
  handler          = "index.handler"
  runtime          = "nodejs22.x"
  architectures    = [var.architecture]
  memory_size      = local.memory_size
  timeout          = local.timeout

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  # The role must be able to write logs before the first invocation.
  depends_on = [aws_iam_role_policy.this]
}

# EventBridge invokes asynchronously; a failed sweep is not retried by Lambda: the next
# scheduled run is the retry, and sees everything the failed one would have.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60 * 60
}

resource "aws_cloudwatch_event_rule" "schedule" {
  name                = local.function_name
  description         = "imgflow: runs the sweeper (${local.function_name}) on a schedule."
  schedule_expression = local.schedule

  tags = var.tags
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${local.function_name}-dlq"
  message_retention_seconds = var.dead_letter_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

data "aws_iam_policy_document" "dead_letter" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.schedule.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy    = data.aws_iam_policy_document.dead_letter.json
}

resource "aws_cloudwatch_event_target" "schedule" {
  rule      = aws_cloudwatch_event_rule.schedule.name
  target_id = "imgflow-sweeper"
  arn       = aws_lambda_function.this.arn

  retry_policy {
    maximum_event_age_in_seconds = var.maximum_event_age_in_seconds
    maximum_retry_attempts       = var.maximum_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }

  depends_on = [aws_sqs_queue_policy.dead_letter, aws_lambda_permission.schedule]
}

# Lambda's resource policy: only this rule may invoke the sweeper.
resource "aws_lambda_permission" "schedule" {
  statement_id  = "AllowScheduleInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule.arn
}

# The sweep answers with its summary even when some jobs failed (the next run retries them), so
# Lambda's Errors metric does not see those: its ERROR log lines (Powertools JSON) are counted instead.
resource "aws_cloudwatch_log_metric_filter" "errors" {
  name           = "${local.function_name}-errors"
  log_group_name = aws_cloudwatch_log_group.this.name
  pattern        = "{ $.level = \"ERROR\" }"

  metric_transformation {
    namespace     = local.metric_namespace
    name          = "SweepErrors"
    value         = "1"
    default_value = "0"
  }
}
