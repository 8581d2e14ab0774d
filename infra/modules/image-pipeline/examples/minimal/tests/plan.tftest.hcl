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

run "plans_with_the_defaults" {
  command = plan

  assert {
    condition     = module.image_pipeline.function_names == { validate = "imgflow-minimal-validate", resize = "imgflow-minimal-resize", filter = "imgflow-minimal-filter", optimize = "imgflow-minimal-optimize", notify = "imgflow-minimal-notify" }
    error_message = "one function per step, named <name>-<step>"
  }

  assert {
    condition     = module.image_pipeline.state_machine_name == "imgflow-minimal" && module.image_pipeline.event_rule_name == "imgflow-minimal-upload"
    error_message = "the state machine and the rule are named after the deployment"
  }
}
