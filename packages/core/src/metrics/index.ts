export * from './classification';
export * from './combine';
