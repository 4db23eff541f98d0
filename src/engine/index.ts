/** The engine SPI: the Broker and Storage contracts every engine implements. */
export * from './broker';
export * from './storage';
