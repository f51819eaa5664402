# Two `docker` blocks in one host: the second would silently win.

host "ci-runner" {
  instance_type = "c6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  docker {
    log_driver = "local"
  }

  docker { # expect: error schema::duplicate-name
    max_concurrent_downloads = 8
  }
}
