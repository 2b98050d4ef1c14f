/** Presets and hardware profiles as the API serves them (read from search-spaces/ by libs/latency). */
export interface CatalogPort {
  presets(): unknown[] | Promise<unknown[]>;
  preset(name: string): unknown;
  hardwareProfiles(): unknown[] | Promise<unknown[]>;
}
