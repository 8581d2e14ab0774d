# The state machine's role, planned without an AWS account. The plain provider below renders
# aws_iam_policy_document itself, so the assertions read the real policy JSON; it is given
# fake credentials with every start-up check skipped, and the two things that would call AWS
# during a plan are overridden: aws_caller_identity (STS) and the state machine (the provider
# validates a definition with the Step Functions API; workflow.tftest.hcl covers the definition).

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
}

run "invokes_exactly_its_functions" {
  command = plan

  assert {
    condition     = toset(one([for statement in jsondecode(data.aws_iam_policy_document.this.json).Statement : statement.Resource if statement.Sid == "InvokeStepFunctions"])) == toset(concat(values(var.function_arns), [for arn in values(var.function_arns) : "${arn}:*"]))
    error_message = "the state machine may invoke its five functions (and their versions), nothing else"
  }

  assert {
    condition     = [for statement in jsondecode(data.aws_iam_policy_document.this.json).Statement : statement.Sid] == ["InvokeStepFunctions", "DeliverExecutionLogs"]
    error_message = "no X-Ray statement without tracing, no extra statement unless given"
  }

  assert {
    condition     = aws_iam_role.this[0].name == "imgflow-test-workflow-eu-west-1" && aws_iam_role.this[0].path == "/" && aws_iam_role.this[0].permissions_boundary == null
    error_message = "the role name carries the region (IAM is global); path / and no boundary by default"
  }
}

run "adds_extra_statements_path_and_boundary" {
  command = plan

  variables {
    role_path                 = "/imgflow/"
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/platform-boundary"
    extra_policy_statements = [
      { sid = "ReadJobSecrets", actions = ["secretsmanager:GetSecretValue"], resources = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:imgflow-*"] },
    ]
  }

  assert {
    condition = one([for statement in jsondecode(data.aws_iam_policy_document.this.json).Statement : statement if statement.Sid == "ReadJobSecrets"]) == {
      Sid      = "ReadJobSecrets"
      Effect   = "Allow"
      Action   = "secretsmanager:GetSecretValue"
      Resource = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:imgflow-*"
    }
    error_message = "the extra statement is added as given, Allow by default"
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
    existing_role_arn = "arn:aws:iam::123456789012:role/central/imgflow-workflow"
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && length(aws_iam_role_policy.this) == 0
    error_message = "no role or policy is created next to an existing role"
  }

  assert {
    condition     = aws_sfn_state_machine.this.role_arn == "arn:aws:iam::123456789012:role/central/imgflow-workflow"
    error_message = "the state machine runs with the existing role"
  }

  assert {
    condition     = jsondecode(output.role_policy_json).Statement[0].Sid == "InvokeStepFunctions"
    error_message = "role_policy_json is what the central IAM process attaches to the existing role"
  }
}

run "refuses_create_role_false_without_a_role" {
  command = plan

  variables {
    create_role = false
  }

  expect_failures = [data.aws_iam_policy_document.this]
}
