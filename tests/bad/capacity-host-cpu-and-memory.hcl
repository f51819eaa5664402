# Both budgets of one host exceeded: two diagnostics on the host.

host "tiny" { # expect: error capacity::host; error capacity::host
  instance_type = "t3.medium"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

container "jvm-app" {
  count  = 2
  image  = "registry.example.internal/jvm-app:11.0.4"
  cpus   = 5
  memory = "3Gi"
}
