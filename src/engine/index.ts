/** The engine SPI: the Broker and Storage contracts every engine implements, and how engines are chosen. */
export * from './broker';
export * from './storage';
export * from './engine';
export * from './queue-options';
export { checkPairing } from './pairing';
export { engineFromUrl, engineSchemes } from './registry';
