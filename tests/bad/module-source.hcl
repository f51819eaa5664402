# A module whose local source directory does not exist.

module "postgres" {
  source   = "./modules/postgres" # expect: error module::source
  replicas = 3
}
