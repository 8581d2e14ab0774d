# `terraform test` with a mocked AWS provider: the whole pipeline plans without an AWS account.
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
  mock_data "aws_s3_bucket" {
    defaults = { region = "eu-west-1", arn = "arn:aws:s3:::acme-photos", id = "acme-photos" }
  }
}

variables {
  name = "imgflow-test"
}

run "names_every_role_after_its_region" {
  command = plan

  assert {
    condition     = alltrue([for role in values(merge(module.functions.role_names, { workflow = module.workflow.role_name, trigger = module.trigger.role_name })) : endswith(role, "-eu-west-1")])
    error_message = "every role name ends in the region: IAM is global"
  }

  assert {
    condition     = module.workflow.role_name == "imgflow-test-workflow-eu-west-1" && module.trigger.role_name == "imgflow-test-upload-trigger-eu-west-1"
    error_message = "role names are <name>-<role>-<region>"
  }

  assert {
    condition     = toset(keys(output.role_arns)) == toset(["validate", "resize", "filter", "optimize", "notify", "workflow", "trigger", "sweep", "backfill"])
    error_message = "role_arns lists all nine roles (the sweeper's and the backfill's included)"
  }
}

run "the_same_name_in_a_second_region_gets_its_own_roles" {
  command = plan

  override_data {
    target = module.functions.data.aws_region.current
    values = { name = "us-east-1" }
  }
  override_data {
    target = module.workflow.data.aws_region.current
    values = { name = "us-east-1" }
  }
  override_data {
    target = module.trigger.data.aws_region.current
    values = { name = "us-east-1" }
  }

  assert {
    condition     = module.functions.role_names["validate"] == "imgflow-test-validate-us-east-1" && module.workflow.role_name == "imgflow-test-workflow-us-east-1" && module.trigger.role_name == "imgflow-test-upload-trigger-us-east-1"
    error_message = "a deployment of the same name in another region must not collide with the first one's roles"
  }
}

run "takes_roles_from_a_central_iam_process" {
  command = plan

  variables {
    existing_role_arns = {
      validate = "arn:aws:iam::123456789012:role/central/imgflow-validate"
      workflow = "arn:aws:iam::123456789012:role/central/imgflow-workflow"
      trigger  = "arn:aws:iam::123456789012:role/central/imgflow-trigger"
      sweep    = "arn:aws:iam::123456789012:role/central/imgflow-sweep"
      backfill = "arn:aws:iam::123456789012:role/central/imgflow-backfill"
    }
  }

  assert {
    condition     = output.role_arns["validate"] == var.existing_role_arns["validate"] && output.role_arns["workflow"] == var.existing_role_arns["workflow"] && output.role_arns["trigger"] == var.existing_role_arns["trigger"]
    error_message = "the existing roles are used where given"
  }

  assert {
    condition     = toset(keys(module.functions.role_names)) == toset(["resize", "filter", "optimize", "notify"]) && module.workflow.role_name == null && module.trigger.role_name == null && module.sweeper[0].role_name == null && output.role_arns["sweep"] == var.existing_role_arns["sweep"] && module.backfill[0].role_name == null && output.role_arns["backfill"] == var.existing_role_arns["backfill"]
    error_message = "no role is created where an existing one is given"
  }

  assert {
    condition     = toset(keys(output.role_policy_json)) == toset(keys(output.role_arns))
    error_message = "role_policy_json gives the policy for every role, existing ones included"
  }
}

run "takes_uploads_from_an_existing_bucket" {
  command = plan

  variables {
    create_upload_bucket = false
    upload_bucket_name   = "acme-photos"
  }

  assert {
    condition     = output.upload_bucket == "acme-photos" && output.upload_bucket_arn == "arn:aws:s3:::acme-photos" && !module.storage.upload_bucket_created
    error_message = "the existing bucket is the upload bucket, and no upload bucket is created"
  }

  assert {
    condition     = jsondecode(module.trigger.event_pattern).detail.bucket.name == ["acme-photos"]
    error_message = "the rule matches the existing bucket's Object Created events"
  }
}

run "names_a_created_upload_bucket" {
  command = plan

  variables {
    upload_bucket_name = "imgflow-test-uploads"
  }

  assert {
    condition     = module.trigger.event_pattern != null && jsondecode(module.trigger.event_pattern).detail.bucket.name == ["imgflow-test-uploads"]
    error_message = "upload_bucket_name names the bucket the module creates"
  }
}

run "refuses_an_unknown_role_key" {
  command = plan

  variables {
    existing_role_arns = { alarms = "arn:aws:iam::123456789012:role/central/imgflow-alarms" }
  }

  expect_failures = [var.existing_role_arns]
}

run "refuses_a_prefix_without_a_trailing_slash" {
  command = plan

  variables {
    work_prefix = "work"
  }

  expect_failures = [var.work_prefix]
}

run "runs_the_sweeper_on_the_contracts_schedule" {
  command = plan

  assert {
    condition     = length(module.sweeper) == 1 && module.sweeper[0].schedule_expression == "rate(5 minutes)"
    error_message = "the sweeper is deployed by default, on the contract's schedule"
  }

  assert {
    condition     = module.sweeper[0].role_name == "imgflow-test-sweep-eu-west-1"
    error_message = "the sweeper's role is <name>-sweep-<region>"
  }
}

run "takes_a_sweeper_schedule" {
  command = plan

  variables {
    sweeper_schedule_expression = "rate(1 minute)"
  }

  assert {
    condition     = module.sweeper[0].schedule_expression == "rate(1 minute)"
    error_message = "sweeper_schedule_expression reaches the rule"
  }
}

run "leaves_the_sweeper_out_when_disabled" {
  command = plan

  variables {
    sweeper_enabled = false
  }

  assert {
    condition     = length(module.sweeper) == 0 && output.sweeper_function_name == null && !contains(keys(output.role_arns), "sweep")
    error_message = "sweeper_enabled = false deploys no sweeper and lists no sweep role"
  }
}

run "deploys_the_backfill_on_the_workflow_it_runs" {
  command = plan

  # Function ARNs and the output bucket's id are known only after apply; values known while
  # planning (override_during, Terraform >= 1.11), one for all instances, let the plan render both
  # definitions.
  override_resource {
    target          = module.functions.aws_lambda_function.this
    override_during = plan
    values          = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:imgflow-test-any" }
  }
  override_resource {
    target          = module.storage.aws_s3_bucket.this
    override_during = plan
    values          = { id = "imgflow-test-outputs", arn = "arn:aws:s3:::imgflow-test-outputs" }
  }

  variables {
    key_prefix               = "incoming/"
    backfill_max_concurrency = 25
  }

  assert {
    condition     = length(module.backfill) == 1 && output.backfill_state_machine_name == "imgflow-test-backfill" && module.backfill[0].role_name == "imgflow-test-backfill-eu-west-1"
    error_message = "the backfill is deployed by default: <name>-backfill, its role <name>-backfill-<region>"
  }

  assert {
    condition     = jsondecode(module.backfill[0].definition).States.ProcessExistingObjects.ItemProcessor.States == jsondecode(module.workflow.definition).States
    error_message = "the backfill's item processor is the deployed workflow's states"
  }

  assert {
    condition     = jsondecode(module.backfill[0].definition).States.ProcessExistingObjects.ItemProcessor.ProcessorConfig.ExecutionType == module.workflow.type
    error_message = "child executions run as the workflow's type"
  }

  assert {
    condition     = jsondecode(module.backfill[0].definition).States.ProcessExistingObjects.MaxConcurrency == 25 && jsondecode(module.backfill[0].definition).States.ApplyDefaults.Parameters.defaults.prefix == "incoming/"
    error_message = "backfill_max_concurrency reaches the Map, and a backfill lists key_prefix by default"
  }

  assert {
    condition     = module.backfill[0].report_prefix == "backfill-reports/" && jsondecode(module.backfill[0].definition).States.ProcessExistingObjects.ItemReader.Parameters.Bucket == output.upload_bucket
    error_message = "a backfill lists the upload bucket and reports under backfill-reports/"
  }
}

run "leaves_the_backfill_out_when_disabled" {
  command = plan

  variables {
    backfill_enabled = false
  }

  assert {
    condition     = length(module.backfill) == 0 && output.backfill_state_machine_arn == null && !contains(keys(output.role_arns), "backfill")
    error_message = "backfill_enabled = false deploys no backfill and lists no backfill role"
  }
}
