# `docker = { ... }` is an attribute; the Docker engine settings are a block. berth says so
# instead of silently dropping the log settings.

host "edge" {
  instance_type = "c6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1b"

  docker = { # expect: error schema::unknown-attribute
    log_driver   = "local"
    log_max_size = "20m"
  }
}
