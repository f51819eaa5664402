# A transposed instance type name: berth suggests the catalogue entry.

host "search" {
  instance_type = "m6i.8xlrage" # expect: error catalogue::instance-type
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}
