# `locals` takes no label, and a host needs exactly one.

locals "network" { # expect: error schema::labels
  zones = ["eu-west-1a", "eu-west-1b"]
}

host { # expect: error schema::labels
  instance_type = "m6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}
