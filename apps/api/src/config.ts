// The API reads the one process configuration (libs/config); these names are kept for its modules.
export { loadConfig, ConfigError, type Config as ApiConfig } from '@detsearch/config';
