data "aws_caller_identity" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  # The vendedlogs path keeps the account's CloudWatch Logs resource policy small.
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "StepFunctionsAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-workflow"
  description        = "imgflow state machine: invokes its five functions, delivers its logs."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  # The five functions, unqualified and as versions/aliases (":*"), nothing else.
  statement {
    sid       = "InvokeStepFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = concat(local.invoked_function_arns, [for arn in local.invoked_function_arns : "${arn}:*"])
  }

  # CloudWatch Logs log delivery does not support resource-level permissions.
  statement {
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.tracing_enabled ? ["xray"] : []

    content {
      sid = "WriteTraces"
      actions = [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-workflow"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_sfn_state_machine" "this" {
  name     = var.name
  type     = var.type
  role_arn = aws_iam_role.this.arn

  # The only place the ASL is rendered for AWS; the local runtime renders the same file.
  definition = templatefile("${path.module}/imgflow.asl.json.tftpl", {
    validate_function_arn   = var.function_arns.validate
    resize_function_arn     = var.function_arns.resize
    filter_function_arn     = var.function_arns.filter
    optimize_function_arn   = var.function_arns.optimize
    notify_function_arn     = var.function_arns.notify
    retry_interval_seconds  = var.retry.interval_seconds
    retry_max_attempts      = var.retry.max_attempts
    retry_backoff_rate      = var.retry.backoff_rate
    retry_max_delay_seconds = var.retry.max_delay_seconds
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.include_execution_data
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = var.tags

  # Step Functions checks the role's permissions when the state machine is created.
  depends_on = [aws_iam_role_policy.this]
}
