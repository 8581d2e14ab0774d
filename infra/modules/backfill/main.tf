data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "this" {
  # The vendedlogs path keeps the account's CloudWatch Logs resource policy small.
  name              = "/aws/vendedlogs/states/${local.state_machine_name}"
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
      values   = [local.account_id]
    }
  }
}

# Roles are global: the region in the name lets the same name deploy in several regions.
resource "aws_iam_role" "this" {
  count = var.create_role ? 1 : 0

  name                 = local.role_name
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "imgflow backfill: lists the upload prefix, runs the image workflow per object as a Distributed Map, writes its report."
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json

  tags = var.tags

  lifecycle {
    # A renamed role is replaced without leaving the state machine without one.
    create_before_destroy = true

    precondition {
      condition     = length(local.role_name) <= 64
      error_message = "The role name ${local.role_name} is longer than the 64 characters IAM allows: shorten name, or bring a role (create_role = false, existing_role_arn)."
    }
  }
}

# What the Distributed Map does with the role (Step Functions' "IAM policies for using
# Distributed Map states"): starts and watches its own child executions, lists the bucket for its
# ItemReader, writes the ResultWriter's report; the child executions run under the same role and
# invoke the workflow's functions.
data "aws_iam_policy_document" "this" {
  # The five functions, unqualified and as versions/aliases (":*"), nothing else.
  statement {
    sid       = "InvokeStepFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = concat(local.invoked_function_arns, [for arn in local.invoked_function_arns : "${arn}:*"])
  }

  # The map run starts one child execution of this state machine per object.
  statement {
    sid       = "StartChildExecutions"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "ManageChildExecutions"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = local.execution_arns
  }

  # The ItemReader (s3:listObjectsV2) lists only the keys the pipeline processes.
  statement {
    sid       = "ListUploads"
    actions   = ["s3:ListBucket"]
    resources = [var.upload_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.upload_key_prefix}*"]
    }
  }

  # The ResultWriter writes the report in parts (multipart upload) and reads it back.
  statement {
    sid = "WriteReports"
    actions = [
      "s3:PutObject",
      "s3:GetObject",
      "s3:ListMultipartUploadParts",
      "s3:AbortMultipartUpload",
    ]
    resources = ["${var.report_bucket_arn}/${local.report_prefix}*"]
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

  # The report bucket's SSE-KMS key, only when there is one.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseReportDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
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

  name   = "${var.name}-backfill"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_sfn_state_machine" "this" {
  name = local.state_machine_name
  # A Distributed Map runs only in a STANDARD state machine; its children are execution_type.
  type     = "STANDARD"
  role_arn = local.role_arn

  definition = local.definition

  lifecycle {
    precondition {
      condition     = local.workflow_function_arns == toset(local.invoked_function_arns)
      error_message = "function_arns (${join(", ", sort(local.invoked_function_arns))}) must be exactly the functions workflow_definition invokes (${join(", ", sort(local.workflow_function_arns))}): the role may invoke nothing else, and must invoke all of them."
    }
  }

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
