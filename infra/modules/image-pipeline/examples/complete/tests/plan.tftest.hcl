# `terraform test` with a mocked AWS provider: the example plans without an AWS account.
# Needs the zips: point artifacts_dir at a folder holding <function>-<arch>.zip
# (infra/tests/terraform.test.ts makes one and sets TF_VAR_artifacts_dir).

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

run "plans_every_option" {
  command = plan

  assert {
    condition     = module.image_pipeline.function_names["optimize"] == "imgflow-complete-optimize" && length(module.image_pipeline.function_names) == 5
    error_message = "one function per step"
  }

  assert {
    condition     = toset(keys(module.image_pipeline.role_arns)) == toset(["validate", "resize", "filter", "optimize", "notify", "workflow", "trigger", "sweep", "backfill"])
    error_message = "nine roles (the sweeper's and the backfill's included), the trigger's supplied from outside the module"
  }

  assert {
    condition     = module.image_pipeline.backfill_state_machine_name == "imgflow-complete-backfill"
    error_message = "the backfill is deployed, <name>-backfill"
  }

  assert {
    condition     = module.image_pipeline.sweeper_function_name == "imgflow-complete-sweep"
    error_message = "the sweeper is deployed, <name>-sweep"
  }

  assert {
    condition     = module.image_pipeline.log_group_names["workflow"] == "/aws/vendedlogs/states/imgflow-complete" && module.image_pipeline.log_group_names["optimize"] == "/aws/lambda/imgflow-complete-optimize"
    error_message = "one log group per function and one for the state machine"
  }

  assert {
    condition     = length(module.image_pipeline.alarm_arns) == 16 && contains(keys(module.image_pipeline.alarm_arns), "sweep-failures")
    error_message = "three workflow alarms, two per function, and three for the sweeper (errors, jobs it could not end or notify, its dead-letter queue)"
  }
}
