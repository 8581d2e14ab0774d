# `terraform test` with a mocked AWS provider: plans the functions without an AWS account.
# Needs the zips: point artifacts_dir at a folder holding <function>-<arch>.zip
# (infra/tests/terraform.test.ts makes one and sets TF_VAR_artifacts_dir).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
}

variables {
  name               = "imgflow-test"
  upload_bucket_arn  = "arn:aws:s3:::imgflow-test-uploads"
  output_bucket_name = "imgflow-test-outputs"
  output_bucket_arn  = "arn:aws:s3:::imgflow-test-outputs"
  jobs_table_name    = "imgflow-test-jobs"
  jobs_table_arn     = "arn:aws:dynamodb:eu-west-1:123456789012:table/imgflow-test-jobs"
  success_topic_arn  = "arn:aws:sns:eu-west-1:123456789012:imgflow-test-success"
  error_topic_arn    = "arn:aws:sns:eu-west-1:123456789012:imgflow-test-error"
  functions = {
    validate = { memory_size = 512, timeout = 30 }
    resize   = { memory_size = 1769, timeout = 120 }
    filter   = { memory_size = 1769, timeout = 120 }
    optimize = { memory_size = 2048, timeout = 300 }
    notify   = { memory_size = 256, timeout = 30 }
  }
}

run "names_roles_per_region_with_path_and_boundary" {
  command = plan

  variables {
    role_path                 = "/imgflow/"
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/platform-boundary"
  }

  assert {
    condition     = aws_iam_role.this["optimize"].name == "imgflow-test-optimize-eu-west-1"
    error_message = "role names carry the region: IAM is global"
  }

  assert {
    condition     = alltrue([for role in aws_iam_role.this : role.path == "/imgflow/" && role.permissions_boundary == "arn:aws:iam::123456789012:policy/platform-boundary"])
    error_message = "every role gets role_path and role_permissions_boundary"
  }
}

run "the_same_name_in_another_region_gets_other_roles" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = { name = "us-east-1" }
  }

  assert {
    condition     = aws_iam_role.this["validate"].name == "imgflow-test-validate-us-east-1"
    error_message = "a second region must not collide with the first one's roles"
  }

  assert {
    condition     = aws_iam_role.this["validate"].permissions_boundary == null && aws_iam_role.this["validate"].path == "/"
    error_message = "no boundary and path / by default"
  }
}

run "uses_existing_roles_where_given" {
  command = plan

  variables {
    existing_role_arns = {
      validate = "arn:aws:iam::123456789012:role/central/imgflow-validate"
      notify   = "arn:aws:iam::123456789012:role/central/imgflow-notify"
    }
  }

  assert {
    condition     = toset(keys(aws_iam_role.this)) == toset(["filter", "optimize", "resize"]) && toset(keys(aws_iam_role_policy.this)) == toset(["filter", "optimize", "resize"])
    error_message = "roles and policies are created only for steps without an existing role"
  }

  assert {
    condition     = aws_lambda_function.this["validate"].role == "arn:aws:iam::123456789012:role/central/imgflow-validate"
    error_message = "a function runs with the existing role it was given"
  }

  assert {
    condition     = output.role_arns["notify"] == "arn:aws:iam::123456789012:role/central/imgflow-notify" && length(output.role_arns) == 5
    error_message = "role_arns lists the existing roles next to the created ones"
  }
}

run "refuses_overlapping_prefixes" {
  command = plan

  variables {
    output_prefix = "renditions/"
    work_prefix   = "renditions/work/"
  }

  expect_failures = [data.aws_iam_policy_document.notify]
}

run "refuses_equal_prefixes" {
  command = plan

  variables {
    assets_prefix = "work/"
  }

  expect_failures = [data.aws_iam_policy_document.notify]
}

run "refuses_a_wildcard_in_the_upload_key_prefix" {
  command = plan

  variables {
    upload_key_prefix = "incoming/*/"
  }

  expect_failures = [var.upload_key_prefix]
}

run "refuses_a_service_wide_extra_allow" {
  command = plan

  variables {
    extra_policy_statements = {
      resize = [{ actions = ["s3:*"], resources = ["*"] }]
    }
  }

  expect_failures = [var.extra_policy_statements]
}

run "refuses_a_role_name_longer_than_iam_allows" {
  command = plan

  variables {
    # 54 characters, the most the Lambda names allow: with "-optimize-eu-west-1" the role name has 73.
    name = "imgflow-a-deployment-name-that-is-fifty-four-chars-xyz"
  }

  expect_failures = [aws_iam_role.this]
}

run "compacts_a_pretty_printed_recipe_into_the_environment" {
  command = plan

  variables {
    recipe_json = "{\n  \"version\": \"1\",\n  \"renditions\": [ { \"name\": \"sm\", \"width\": 320 } ]\n}"
  }

  assert {
    condition     = aws_lambda_function.this["resize"].environment[0].variables.IMGFLOW_RECIPE == "{\"renditions\":[{\"name\":\"sm\",\"width\":320}],\"version\":\"1\"}"
    error_message = "the recipe reaches the environment as compact JSON"
  }
}

run "refuses_a_recipe_that_cannot_fit_the_lambda_environment" {
  command = plan

  variables {
    # 60 renditions with long names: about 4.6 KB of compact JSON.
    recipe_json = jsonencode({ version = "1", renditions = [for i in range(60) : { name = "rendition-with-a-long-name-${i}", width = 100 + i }] })
  }

  expect_failures = [aws_lambda_function.this]
}
