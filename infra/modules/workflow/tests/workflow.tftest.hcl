# `terraform test` with a mocked AWS provider: plans the module without an AWS account and
# checks what templatefile() rendered. Run by infra/tests/terraform.test.ts when a terraform
# binary and the aws provider are available offline.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
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

run "renders_the_template_with_the_function_arns" {
  command = plan

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ValidateImage.Resource == var.function_arns.validate
    error_message = "ValidateImage must invoke the validate function"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessImage.Branches[1].States.ApplyFilters.Resource == var.function_arns.filter
    error_message = "ApplyFilters must invoke the filter function"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.OptimizeImage.Retry[0].MaxAttempts == 3
    error_message = "the default retry policy is 3 attempts"
  }

  assert {
    condition     = aws_sfn_state_machine.this.type == "EXPRESS"
    error_message = "the contract's default workflow type (EXPRESS) applies when type is null"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.NotifyError.Retry[0].ErrorEquals == [for error in concat(local.contract.steps.notify.errors, local.contract.platform_errors) : error if local.contract.errors[error].kind == "retry"]
    error_message = "NotifyError retries the notify step's retry-kind errors and the platform's, from the contract"
  }

  assert {
    condition     = !contains(jsondecode(aws_sfn_state_machine.this.definition).States.OptimizeImage.Retry[0].ErrorEquals, "InvalidImageError")
    error_message = "a reject-kind error is never retried"
  }
}

run "standard_is_a_choice" {
  command = plan

  variables {
    type = "STANDARD"
  }

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "type must reach the state machine"
  }
}

run "refuses_function_arns_that_miss_a_step" {
  command = plan

  variables {
    function_arns = {
      validate = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-validate"
    }
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "express_and_retry_settings_are_variables" {
  command = plan

  variables {
    type = "STANDARD"
    retry = {
      interval_seconds  = 2
      max_attempts      = 5
      backoff_rate      = 1.5
      max_delay_seconds = 60
    }
  }

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "type must reach the state machine"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ValidateImage.Retry[0].MaxAttempts == 5 && jsondecode(aws_sfn_state_machine.this.definition).States.ValidateImage.Retry[0].IntervalSeconds == 2
    error_message = "retry settings must be rendered into every Retry"
  }
}

run "refuses_an_unknown_workflow_type" {
  command = plan

  variables {
    type = "FAST"
  }

  expect_failures = [var.type]
}

run "every_task_times_out_just_after_its_function" {
  command = plan

  variables {
    function_timeouts = { optimize = 23.2 }
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.OptimizeImage.TimeoutSeconds == 25
    error_message = "a Task's TimeoutSeconds is its function's timeout, rounded up, plus the contract's margin"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.NotifyError.TimeoutSeconds == local.contract.steps.notify.timeout_seconds + local.contract.workflow.task_timeout_margin_seconds
    error_message = "unset function timeouts take the contract's defaults"
  }
}

run "refuses_express_when_the_worst_case_cannot_fit_five_minutes" {
  command = plan

  variables {
    type              = "EXPRESS"
    function_timeouts = { optimize = 120 }
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "accepts_the_same_timeouts_on_standard" {
  command = plan

  variables {
    type              = "STANDARD"
    function_timeouts = { optimize = 120 }
  }

  assert {
    condition     = local.worst_case_seconds > 300 && local.worst_case_seconds <= local.max_duration_seconds
    error_message = "STANDARD runs up to a year"
  }
}
