# count names instances LABEL-INDEX, so a capitalised label gives every instance a bad name:
# one diagnostic per instance, both on the block's header.

host "Worker" { # expect: error schema::name; error schema::name
  count         = 2
  instance_type = "m6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}
