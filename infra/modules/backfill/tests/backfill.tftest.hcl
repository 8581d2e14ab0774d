# `terraform test` with a mocked AWS provider: renders the image workflow with the workflow module
# (run "workflow"), then plans the backfill on its definition and checks the Distributed Map.
# aws-local-stepfunctions cannot run a Distributed Map, so this plan, asl-validator
# (apps/local-runtime/tests/backfill-asl.test.ts) and terraform validate are its checks.

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

run "runs_the_workflow_states_in_a_distributed_map" {
  command = plan

  variables {
    workflow_definition = run.workflow.definition
    execution_type      = run.workflow.type
  }

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD" && aws_sfn_state_machine.this.name == "imgflow-test-backfill"
    error_message = "the backfill is a STANDARD state machine (a Distributed Map runs only there), named <name>-backfill"
  }

  assert {
    condition     = [for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : state.Type if state.Type == "Map"] == ["Map"]
    error_message = "the backfill has one Map state"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ItemProcessor.ProcessorConfig == { Mode = "DISTRIBUTED", ExecutionType = "EXPRESS" }
    error_message = "the Map is DISTRIBUTED, its children of the workflow's type (EXPRESS by default)"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ItemProcessor.States == jsondecode(run.workflow.definition).States
    error_message = "the item processor's states are the image workflow's rendered states"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ItemProcessor.StartAt == jsondecode(run.workflow.definition).StartAt
    error_message = "the item processor starts where the image workflow starts"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.MaxConcurrency == 100 && jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ToleratedFailurePercentage == 5
    error_message = "the defaults: 100 children at once, 5% tolerated failures"
  }

  assert {
    condition = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ItemReader == {
      Resource   = "arn:aws:states:::s3:listObjectsV2"
      Parameters = { Bucket = "imgflow-test-uploads", "Prefix.$" = "$.prefix" }
    }
    error_message = "the ItemReader lists the upload bucket under the execution's prefix"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ApplyDefaults.Parameters.defaults == { prefix = "photos/" }
    error_message = "the prefix defaults to the pipeline's upload key prefix"
  }

  assert {
    condition = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ResultWriter == {
      Resource   = "arn:aws:states:::s3:putObject"
      Parameters = { Bucket = "imgflow-test-outputs", Prefix = "backfill-reports" }
    }
    error_message = "the report goes to the output bucket under backfill-reports/"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ItemSelector.detail.bucket.name == "imgflow-test-uploads" && jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ItemSelector["detail-type"] == "Object Created"
    error_message = "each listed object becomes an Object Created event of the upload bucket"
  }
}

run "takes_concurrency_and_failure_tolerance" {
  command = plan

  variables {
    workflow_definition          = run.workflow.definition
    execution_type               = run.workflow.type
    max_concurrency              = 40
    tolerated_failure_percentage = 0
    report_prefix                = "reports/backfill/"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.MaxConcurrency == 40 && jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ToleratedFailurePercentage == 0
    error_message = "max_concurrency and tolerated_failure_percentage reach the Map"
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ResultWriter.Parameters.Prefix == "reports/backfill"
    error_message = "report_prefix reaches the ResultWriter"
  }
}

run "standard_workflow" {
  command = plan

  module {
    source = "../workflow"
  }

  variables {
    type = "STANDARD"
  }
}

run "children_run_as_the_workflow_type" {
  command = plan

  variables {
    workflow_definition = run.standard_workflow.definition
    execution_type      = run.standard_workflow.type
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.ProcessExistingObjects.ItemProcessor.ProcessorConfig.ExecutionType == "STANDARD" && aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "a STANDARD workflow's backfill runs STANDARD children"
  }
}

run "refuses_functions_the_workflow_does_not_invoke" {
  command = plan

  variables {
    workflow_definition = run.workflow.definition
    execution_type      = run.workflow.type
    function_arns = {
      validate = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-validate"
      resize   = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-resize"
      filter   = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-filter"
      optimize = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-optimize"
      notify   = "arn:aws:lambda:eu-west-1:123456789012:function:other-notify"
    }
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "refuses_a_concurrency_beyond_the_distributed_map_limit" {
  command = plan

  variables {
    workflow_definition = run.workflow.definition
    execution_type      = run.workflow.type
    max_concurrency     = 20000
  }

  expect_failures = [var.max_concurrency]
}
