# The backfill role, planned without an AWS account. The plain provider renders
# aws_iam_policy_document itself, so the assertions read the real policy JSON; it is given fake
# credentials with every start-up check skipped, and what would call AWS during a plan is
# overridden: the workflow module's aws_caller_identity (STS; the backfill reads its account from
# the function ARNs) and the state machines (backfill.tftest.hcl covers the definition). Run
# "workflow" renders the image workflow the backfill embeds.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_resource {
  target = aws_sfn_state_machine.this
}

variables {
  name = "imgflow-test"
  function_arns = {
    validate = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-validate"
    resize   = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-resize"
    filter   = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-filter"
    optimize = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-optimize"
    notify   = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-notify"
  }
  upload_bucket_name = "imgflow-test-uploads"
  upload_bucket_arn  = "arn:aws:s3:::imgflow-test-uploads"
  upload_key_prefix  = "photos/"
  report_bucket_name = "imgflow-test-outputs"
  report_bucket_arn  = "arn:aws:s3:::imgflow-test-outputs"
}

run "workflow" {
  command = plan

  module {
    source = "../workflow"
  }
}

run "grants_exactly_what_the_distributed_map_does" {
  command = plan

  variables {
    workflow_definition = run.workflow.definition
    execution_type      = run.workflow.type
  }

  assert {
    # Sets, not lists: the provider orders a statement's actions and resources its own way.
    condition = [for statement in jsondecode(data.aws_iam_policy_document.this.json).Statement : {
      sid = statement.Sid, effect = statement.Effect, actions = toset(flatten([statement.Action])), resources = toset(flatten([statement.Resource])), condition = try(statement.Condition, null)
      }] == [
      {
        sid       = "InvokeStepFunctions"
        effect    = "Allow"
        actions   = toset(["lambda:InvokeFunction"])
        resources = toset(concat(values(var.function_arns), [for arn in values(var.function_arns) : "${arn}:*"]))
        condition = null
      },
      {
        sid       = "StartChildExecutions"
        effect    = "Allow"
        actions   = toset(["states:StartExecution"])
        resources = toset(["arn:aws:states:eu-west-1:123456789012:stateMachine:imgflow-test-backfill"])
        condition = null
      },
      {
        sid     = "ManageChildExecutions"
        effect  = "Allow"
        actions = toset(["states:DescribeExecution", "states:StopExecution"])
        resources = toset([
          "arn:aws:states:eu-west-1:123456789012:execution:imgflow-test-backfill:*",
          "arn:aws:states:eu-west-1:123456789012:execution:imgflow-test-backfill/*",
        ])
        condition = null
      },
      {
        sid       = "ListUploads"
        effect    = "Allow"
        actions   = toset(["s3:ListBucket"])
        resources = toset(["arn:aws:s3:::imgflow-test-uploads"])
        condition = { StringLike = { "s3:prefix" = "photos/*" } }
      },
      {
        sid       = "WriteReports"
        effect    = "Allow"
        actions   = toset(["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"])
        resources = toset(["arn:aws:s3:::imgflow-test-outputs/backfill-reports/*"])
        condition = null
      },
      {
        sid    = "DeliverExecutionLogs"
        effect = "Allow"
        actions = toset([
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ])
        resources = toset(["*"])
        condition = null
      },
    ]
    error_message = "the backfill role may invoke the five functions, start and manage its own child executions, list the upload prefix, write its reports and deliver its logs: nothing else"
  }

  assert {
    condition     = aws_iam_role.this[0].name == "imgflow-test-backfill-eu-west-1" && aws_iam_role.this[0].path == "/"
    error_message = "the role is <name>-backfill-<region>"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.assume_role.json).Statement[0].Principal == { Service = "states.amazonaws.com" }
    error_message = "the role trusts Step Functions only"
  }
}

run "adds_kms_and_xray_only_when_used" {
  command = plan

  variables {
    workflow_definition = run.workflow.definition
    execution_type      = run.workflow.type
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    tracing_enabled     = true
  }

  assert {
    condition = [for statement in jsondecode(data.aws_iam_policy_document.this.json).Statement : [toset(statement.Action), statement.Resource] if statement.Sid == "UseReportDataKey"] == [
      [toset(["kms:Decrypt", "kms:GenerateDataKey"]), "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"],
    ]
    error_message = "the report bucket's key may be used to write the report, that key only"
  }

  assert {
    condition     = [for statement in jsondecode(data.aws_iam_policy_document.this.json).Statement : statement.Sid] == ["InvokeStepFunctions", "StartChildExecutions", "ManageChildExecutions", "ListUploads", "WriteReports", "DeliverExecutionLogs", "UseReportDataKey", "WriteTraces"]
    error_message = "KMS and X-Ray are the only additions"
  }
}

run "uses_an_existing_role" {
  command = plan

  variables {
    workflow_definition = run.workflow.definition
    execution_type      = run.workflow.type
    create_role         = false
    existing_role_arn   = "arn:aws:iam::123456789012:role/central/imgflow-backfill"
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && length(aws_iam_role_policy.this) == 0 && aws_sfn_state_machine.this.role_arn == "arn:aws:iam::123456789012:role/central/imgflow-backfill"
    error_message = "no role or policy is created next to an existing role, and the state machine runs with it"
  }
}
