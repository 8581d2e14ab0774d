terraform {
  # 1.7: mock_provider and override_data in the tests/*.tftest.hcl files.
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 is the release the offline tests validate against (the last 5.x); 6.x is allowed:
      # nothing used here changed in 6.0 (data.aws_region's name is only deprecated there).
      version = ">= 5.100, < 7.0"
    }
  }
}
