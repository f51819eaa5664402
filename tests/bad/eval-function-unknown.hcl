# A misspelt function name: berth suggests `length`.

locals {
  zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

host "web" {
  instance_type = "m6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  tags          = { zone_count = lenght(local.zones) } # expect: error eval::function
}
