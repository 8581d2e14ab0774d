data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

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

# Roles are global: the region in the name lets the same name deploy in several regions.
resource "aws_iam_role" "this" {
  count = var.create_role ? 1 : 0

  name                 = local.role_name
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "imgflow state machine: invokes its five functions, delivers its logs."
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

moved {
  from = aws_iam_role.this
  to   = aws_iam_role.this[0]
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

  name   = "${var.name}-workflow"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this.json
}

moved {
  from = aws_iam_role_policy.this
  to   = aws_iam_role_policy.this[0]
}

resource "aws_sfn_state_machine" "this" {
  name     = var.name
  type     = local.type
  role_arn = local.role_arn

  # The only place the ASL is rendered for AWS; the local runtime renders the same file.
  definition = local.definition

  lifecycle {
    precondition {
      condition     = sort(keys(var.function_arns)) == sort(keys(local.contract.steps))
      error_message = "function_arns must name exactly the contract's steps (${join(", ", keys(local.contract.steps))})."
    }
    precondition {
      condition     = local.worst_case_seconds <= local.max_duration_seconds
      error_message = "With these function timeouts and retry settings one execution may take up to ${local.worst_case_seconds} s (validate ${local.task_worst_case.validate}, resize ${local.task_worst_case.resize}, filter ${local.task_worst_case.filter}, optimize ${local.task_worst_case.optimize}, notify ${local.task_worst_case.notify}: every attempt to its TimeoutSeconds plus backoff), but a ${local.type} execution is stopped after ${local.max_duration_seconds} s with no Catch, leaving the job unrecorded. Lower the functions' timeouts or retry.max_attempts, or choose workflow type STANDARD."
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
