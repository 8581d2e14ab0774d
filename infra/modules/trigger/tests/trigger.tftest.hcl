# `terraform test` without an AWS account. The plain provider below never calls AWS during a
# plan (fake credentials, every start-up check skipped) and renders aws_iam_policy_document
# itself, so the assertions read the real policy JSON; aws_caller_identity, the one data
# source that would call AWS (STS), is overridden.

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

variables {
  name               = "imgflow-test-upload"
  upload_bucket_name = "imgflow-test-uploads"
  state_machine_arn  = "arn:aws:states:eu-west-1:123456789012:stateMachine:imgflow-test"
}

run "starts_exactly_the_state_machine" {
  command = plan

  assert {
    condition = jsondecode(data.aws_iam_policy_document.this.json).Statement == [{
      Sid      = "StartWorkflow"
      Effect   = "Allow"
      Action   = "states:StartExecution"
      Resource = "arn:aws:states:eu-west-1:123456789012:stateMachine:imgflow-test"
    }]
    error_message = "the EventBridge role may start the target state machine and nothing else"
  }

  assert {
    condition     = aws_iam_role.this[0].name == "imgflow-test-upload-trigger-eu-west-1" && aws_iam_role.this[0].path == "/"
    error_message = "the role name carries the region: IAM is global"
  }
}

run "adds_extra_statements_path_and_boundary" {
  command = plan

  variables {
    role_path                 = "/imgflow/"
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/platform-boundary"
    extra_policy_statements = [
      {
        sid       = "DenyOutsideOrg"
        effect    = "Deny"
        actions   = ["states:StartExecution"]
        resources = ["*"]
        conditions = [
          { test = "StringNotEquals", variable = "aws:ResourceOrgID", values = ["o-example"] },
        ]
      },
    ]
  }

  assert {
    condition     = length(jsondecode(data.aws_iam_policy_document.this.json).Statement) == 2
    error_message = "the extra statement is added to the module's own"
  }

  assert {
    condition = jsondecode(data.aws_iam_policy_document.this.json).Statement[1] == {
      Sid       = "DenyOutsideOrg"
      Effect    = "Deny"
      Action    = "states:StartExecution"
      Resource  = "*"
      Condition = { StringNotEquals = { "aws:ResourceOrgID" = "o-example" } }
    }
    error_message = "the extra statement is rendered as given, condition included"
  }

  assert {
    condition     = aws_iam_role.this[0].path == "/imgflow/" && aws_iam_role.this[0].permissions_boundary == "arn:aws:iam::123456789012:policy/platform-boundary"
    error_message = "role_path and role_permissions_boundary reach the role"
  }
}

run "uses_an_existing_role" {
  command = plan

  variables {
    create_role       = false
    existing_role_arn = "arn:aws:iam::123456789012:role/central/imgflow-trigger"
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && length(aws_iam_role_policy.this) == 0
    error_message = "no role or policy is created next to an existing role"
  }

  assert {
    condition     = aws_cloudwatch_event_target.this.role_arn == "arn:aws:iam::123456789012:role/central/imgflow-trigger"
    error_message = "EventBridge assumes the existing role"
  }

  assert {
    condition     = output.role_name == null && output.role_arn == var.existing_role_arn
    error_message = "the outputs describe the existing role"
  }
}

run "refuses_a_wildcard_allow" {
  command = plan

  variables {
    extra_policy_statements = [{ actions = ["*"], resources = ["*"] }]
  }

  expect_failures = [var.extra_policy_statements]
}

run "refuses_create_role_false_without_a_role" {
  command = plan

  variables {
    create_role = false
  }

  expect_failures = [data.aws_iam_policy_document.this]
}
