# `terraform test` with a mocked AWS provider: the whole dev environment (every module,
# composed by image-pipeline) plans without an AWS account. Needs the zips: point
# artifacts_dir at a folder holding <function>-<arch>.zip (infra/tests/terraform.test.ts makes one).

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

run "plans_the_whole_pipeline" {
  command = plan

  assert {
    condition     = length(module.image_pipeline.function_names) == 5
    error_message = "one Lambda per function package"
  }
}

run "plans_on_x86_64_and_express" {
  command = plan

  variables {
    architecture  = "x86_64"
    workflow_type = "EXPRESS"
  }

  assert {
    condition     = length(module.image_pipeline.function_names) == 5
    error_message = "one Lambda per function package"
  }
}

run "refuses_an_unknown_architecture" {
  command = plan

  variables {
    architecture = "sparc"
  }

  expect_failures = [var.architecture]
}
