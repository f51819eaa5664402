# Repository names are lower case.

host "apps" {
  instance_type = "m6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

container "reporting" {
  image  = "registry.example.internal/Finance/Reporting:2.4.0" # expect: error format::image
  cpus   = 1
  memory = "2Gi"
}
