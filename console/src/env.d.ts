// Vite turns CSS imports into <link> tags of the built page.
declare module '*.css';
